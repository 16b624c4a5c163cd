package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/medguard/medguard/internal/keystore"
)

// keysReport is what "medguard keys show" prints. It holds nothing secret:
// items are unsealed only to check that they still unseal, and zeroed.
type keysReport struct {
	StateDir          string             `json:"state_dir"`
	KeyStore          string             `json:"key_store"`
	Backend           string             `json:"backend"`
	Items             []itemReport       `json:"items"`
	IdentityPublicKey string             `json:"identity_public_key,omitempty"`
	TLSCertificate    *keystore.CertInfo `json:"tls_certificate,omitempty"`
	Problems          []string           `json:"problems,omitempty"`
	refused           bool
}

type itemReport struct {
	Name   string `json:"name"`
	Status string `json:"status"` // "ok" or why it does not unseal
}

func runKeysShow(ctx context.Context, e *env, args []string) error {
	fset := newFlags("keys show")
	var sf storeFlags
	sf.register(fset)
	asJSON := fset.Bool("json", false, "print the report as JSON")
	pos, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	s, cfg, err := sf.open()
	if err != nil {
		return keysError(err)
	}
	defer s.Close()
	r, err := buildKeysReport(s)
	if err != nil {
		return err
	}
	r.StateDir = cfg.Device.StateDir
	if *asJSON {
		err = writeJSON(e.stdout, r)
	} else {
		printKeysReport(e.stdout, r)
	}
	if err == nil && r.refused {
		return &exitError{code: exitTampered, err: errors.New("key store: some items do not unseal (see the report)")}
	}
	return err
}

func buildKeysReport(s *keystore.Store) (*keysReport, error) {
	r := &keysReport{KeyStore: s.Dir(), Backend: s.Backend(), Items: []itemReport{}}
	names, err := s.Items()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		st := "ok"
		v, err := s.Secret(n)
		if err != nil {
			st = err.Error()
			r.refused = r.refused || errors.Is(err, keystore.ErrUnseal)
		}
		v.Zero()
		r.Items = append(r.Items, itemReport{Name: n, Status: st})
	}
	pub, err := s.IdentityPublic()
	switch {
	case err == nil:
		r.IdentityPublicKey = b64(pub)
	case errors.Is(err, keystore.ErrNotFound):
		r.Problems = append(r.Problems, "no identity key yet (created on the daemon's first start)")
	default:
		r.Problems = append(r.Problems, "identity key: "+err.Error())
	}
	info, err := s.CertificateInfo()
	switch {
	case err == nil:
		r.TLSCertificate = info
	case errors.Is(err, fs.ErrNotExist):
		r.Problems = append(r.Problems, "no TLS certificate yet (self-signed on the daemon's first start)")
	default:
		r.Problems = append(r.Problems, "TLS certificate: "+err.Error())
	}
	return r, nil
}

func printKeysReport(w io.Writer, r *keysReport) {
	fmt.Fprintf(w, "state-dir: %s\nkey-store: %s\nbackend: %s\n", r.StateDir, r.KeyStore, r.Backend)
	for _, it := range r.Items {
		fmt.Fprintf(w, "item: %s: %s\n", it.Name, it.Status)
	}
	if r.IdentityPublicKey != "" {
		fmt.Fprintf(w, "identity-public-key: ed25519:%s\n", r.IdentityPublicKey)
	}
	if r.TLSCertificate != nil {
		printCertInfo(w, r.TLSCertificate)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "note: %s\n", p)
	}
}
