package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/integrity"
)

func init() {
	register(&command{
		name:    "manifest verify",
		summary: "verify a software root against its signed manifest, offline",
		usage:   "medguard manifest verify --key PUB [--key PUB …] [--threshold N] [--min-security-version N] [--json] ROOT MANIFEST",
		example: "medguard manifest verify --key maker.pub /opt/medguard/software /opt/medguard/manifest.dsse.json\n" +
			"# exit 0: verified; 1: tampering or bad signature (the first bad item is named); 2: usage or I/O error",
		run: runManifestVerify,
	})
}

// verifyResult is the --json output of manifest verify.
type verifyResult struct {
	OK     bool              `json:"ok"`
	Error  string            `json:"error,omitempty"`
	Reason string            `json:"reason,omitempty"`
	Report *integrity.Report `json:"report,omitempty"`
}

// readPublicKey accepts a public key or a file holding one.
func readPublicKey(s string) (integrity.PublicKey, error) {
	if strings.HasPrefix(s, "medguard-ed25519:") {
		return integrity.ParsePublicKey(s)
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return integrity.PublicKey{}, fmt.Errorf("read public key: %w", err)
	}
	k, err := integrity.ParsePublicKey(string(b))
	if err != nil {
		return integrity.PublicKey{}, fmt.Errorf("%s: %w", s, err)
	}
	return k, nil
}

func runManifestVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags("manifest verify")
	var keys multiFlag
	fs.Var(&keys, "key", "trusted public key, or a file holding one (repeat for several)")
	threshold := fs.Int("threshold", 1, "how many trusted keys must have signed")
	minSec := fs.Uint64("min-security-version", 0, "refuse a manifest below this security version (rollback)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || len(keys) == 0 {
		return usagef("manifest verify needs --key PUB, ROOT and MANIFEST")
	}
	var trusted []integrity.PublicKey
	for _, k := range keys {
		pk, err := readPublicKey(k)
		if err != nil {
			return err
		}
		trusted = append(trusted, pk)
	}
	if *threshold < 1 || *threshold > len(trusted) {
		return usagef("--threshold %d with %d keys", *threshold, len(trusted))
	}
	data, err := os.ReadFile(pos[1])
	if err != nil {
		return fmt.Errorf("read manifest: %w", err)
	}
	rep, err := verifyOffline(ctx, e, pos[0], data, trusted, *threshold, *minSec)
	return reportVerify(e, *asJSON, rep, err)
}

func verifyOffline(ctx context.Context, e *env, root string, data []byte, trusted []integrity.PublicKey, threshold int, minSec uint64) (*integrity.Report, error) {
	v, err := integrity.OpenEnvelope(ctx, data, trusted, threshold)
	if err != nil {
		return nil, err
	}
	if v.Manifest.SecurityVersion < minSec {
		return nil, &integrity.SecurityError{Reason: integrity.ReasonRollback,
			Msg: fmt.Sprintf("security version %d is below %d", v.Manifest.SecurityVersion, minSec)}
	}
	progress, stop := terminalProgress(e, "verifying")
	rep, err := integrity.Verify(ctx, root, v.Manifest, integrity.VerifyOptions{Now: time.Now, Progress: progress})
	stop()
	if err != nil {
		return nil, err
	}
	rep.Signers = v.Signers
	if f, bad := rep.FirstCritical(); bad {
		return &rep, &integrity.SecurityError{Reason: integrity.ReasonTampered, Msg: fmt.Sprintf("first bad item: %s: %s", f.Path, f.Kind)}
	}
	return &rep, nil
}

// reportVerify prints the outcome and maps it to the exit codes of
// ARCHITECTURE.md: 0 verified, 1 tampering or bad signature, 2 otherwise.
func reportVerify(e *env, asJSON bool, rep *integrity.Report, err error) error {
	var se *integrity.SecurityError
	isSec := errors.As(err, &se)
	if asJSON {
		res := verifyResult{OK: err == nil, Report: rep}
		if err != nil {
			res.Error = err.Error()
		}
		if isSec {
			res.Reason = string(se.Reason)
		}
		if err := json.NewEncoder(e.stdout).Encode(res); err != nil {
			return err
		}
	} else if rep != nil {
		printReport(e, rep)
	}
	switch {
	case err == nil:
		return nil
	case isSec:
		return &exitError{code: exitTampered, err: err}
	default:
		return err
	}
}

func printReport(e *env, r *integrity.Report) {
	fmt.Fprintf(e.stdout, "%s %s (security version %d), signed by %s\n", r.Product, r.Version, r.SecurityVersion, strings.Join(r.Signers, ", "))
	fmt.Fprintf(e.stdout, "%d files, %d bytes checked in %v\n", r.Files, r.Bytes, time.Duration(r.Duration).Round(time.Millisecond))
	for _, f := range r.Findings {
		sev := "WARNING"
		if f.Critical() {
			sev = "TAMPERED"
		}
		fmt.Fprintf(e.stdout, "%s %s %s: %s\n", sev, f.Kind, f.Path, f.Detail)
	}
	if r.OK() {
		fmt.Fprintln(e.stdout, "verified")
	}
}
