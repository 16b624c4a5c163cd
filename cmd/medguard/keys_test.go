package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/keystore/keystoretest"
)

// runCLI runs the medguard CLI in-process.
func runCLI(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), &env{stdin: bytes.NewReader(stdin), stdout: &o, stderr: &e, getenv: os.Getenv}, args)
	return code, o.String(), e.String()
}

// keysDevice is a state directory and configuration for the keys commands.
type keysDevice struct {
	dir, config string
}

func newSealedFileDevice(t *testing.T) *keysDevice {
	t.Helper()
	d := &keysDevice{dir: t.TempDir()}
	kek := filepath.Join(d.dir, "kek")
	if err := keystore.CreateKEKFile(kek); err != nil {
		t.Fatal(err)
	}
	d.writeConfig(t, fmt.Sprintf("backend = \"sealed-file\"\nkek_file = %q\n", kek))
	return d
}

func (d *keysDevice) writeConfig(t *testing.T, keystoreTable string) {
	t.Helper()
	state := filepath.Join(d.dir, "state")
	os.MkdirAll(state, 0o700)
	d.config = filepath.Join(d.dir, "medguard.toml")
	cfg := fmt.Sprintf("[device]\nname = \"dev-1\"\nstate_dir = %q\n\n[keystore]\n%s", state, keystoreTable)
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (d *keysDevice) run(t *testing.T, stdin []byte, args ...string) (int, string, string) {
	t.Helper()
	return runCLI(t, stdin, append(args, "--config", d.config)...)
}

func randomPassphrase(t *testing.T) []byte {
	b := make([]byte, 16)
	rand.Read(b)
	return []byte(hex.EncodeToString(b))
}

type cliCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCLICA(t *testing.T, dir string) (*cliCA, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Hospital CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	p := filepath.Join(dir, fmt.Sprintf("ca-%d.pem", time.Now().UnixNano()))
	os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	return &cliCA{cert, key}, p
}

func (ca *cliCA) sign(t *testing.T, csrPEM []byte, out string) {
	t.Helper()
	b, _ := pem.Decode(csrPEM)
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: csr.Subject, DNSNames: csr.DNSNames, IPAddresses: csr.IPAddresses,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// TestKeysInstallCert: CSR, signed by the hospital's CA, installed and
// shown; a certificate from another CA is refused and changes nothing.
func TestKeysInstallCert(t *testing.T) {
	d := newSealedFileDevice(t)
	code, csr, stderr := d.run(t, nil, "keys", "csr", "--cn", "monitor-7", "--dns", "monitor-7.icu.example", "--ip", "10.1.2.3")
	if code != 0 {
		t.Fatalf("csr: %d %s", code, stderr)
	}
	ca, caFile := newCLICA(t, d.dir)
	cert := filepath.Join(d.dir, "monitor-7.pem")
	ca.sign(t, []byte(csr), cert)
	code, out, stderr := d.run(t, nil, "keys", "install-cert", "--ca", caFile, cert)
	if code != 0 || !strings.Contains(out, "tls-issuer: CN=Test Hospital CA") || !strings.Contains(out, "tls-names: monitor-7.icu.example, 10.1.2.3") {
		t.Fatalf("install-cert: %d\n%s%s", code, out, stderr)
	}
	installed, _ := os.ReadFile(filepath.Join(d.dir, "state", "keys", keystore.CertFile))

	other, _ := newCLICA(t, d.dir)
	bad := filepath.Join(d.dir, "other.pem")
	other.sign(t, []byte(csr), bad)
	code, _, stderr = d.run(t, nil, "keys", "install-cert", "--ca", caFile, bad)
	if code != exitUsage || !strings.Contains(stderr, "does not chain to the given CA") {
		t.Fatalf("other CA: exit %d, %s", code, stderr)
	}
	if now, _ := os.ReadFile(filepath.Join(d.dir, "state", "keys", keystore.CertFile)); !bytes.Equal(now, installed) {
		t.Fatal("a refused certificate changed the installed one")
	}

	code, out, _ = d.run(t, nil, "keys", "show", "--json")
	var r keysReport
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("show --json: %d %s", code, out)
	}
	if r.TLSCertificate == nil || r.TLSCertificate.SelfSigned || len(r.TLSCertificate.SHA256) != 64 {
		t.Fatalf("show: certificate %+v", r.TLSCertificate)
	}
}

// TestKeysExportLogVerifier: what the CLI exports, the log verifier's
// reader opens with the same passphrase, and it holds the store's keys.
func TestKeysExportLogVerifier(t *testing.T) {
	d := newSealedFileDevice(t)
	pass := randomPassphrase(t)
	out := filepath.Join(d.dir, "v.age")
	if code, _, stderr := d.run(t, append(pass, '\n'), "keys", "export-log-verifier", "--out", out); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Fatalf("verifier file mode %v, want 0600", fi.Mode())
	}
	f, _ := os.Open(out)
	defer f.Close()
	v, err := keystore.ReadLogVerifier(f, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Zero()
	kek := filepath.Join(d.dir, "kek")
	s, err := keystore.OpenFromConfig(filepath.Join(d.dir, "state"), keystore.Config{Backend: "sealed-file", KEKFile: kek})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	root, _ := s.Secret(keystore.ItemLogRootKey)
	pub, _ := s.IdentityPublic()
	if !v.RootKey.Equal(root) || !v.DevicePublicKey.Equal(pub) || v.DeviceName != "dev-1" {
		t.Fatal("the exported verifier does not hold the store's keys")
	}
}

// TestKeysShowRevealsNoSecret: neither report form contains any item's
// value, in any common encoding.
func TestKeysShowRevealsNoSecret(t *testing.T) {
	d := newSealedFileDevice(t)
	s, err := keystore.OpenFromConfig(filepath.Join(d.dir, "state"), keystore.Config{Backend: "sealed-file", KEKFile: filepath.Join(d.dir, "kek")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Identity()
	s.EnsureSecret(keystore.ItemLogRootKey, 32)
	s.EnsureSecret(keystore.ItemDataKey, 32)
	if _, err := s.EnsureTLSCertificate([]string{"dev.example"}); err != nil {
		t.Fatal(err)
	}
	_, text, _ := d.run(t, nil, "keys", "show")
	_, js, _ := d.run(t, nil, "keys", "show", "--json")
	names, _ := s.Items()
	if len(names) != 4 || strings.Count(text, ": ok\n") != 4 {
		t.Fatalf("items %v, report:\n%s", names, text)
	}
	for _, n := range names {
		v, err := s.Secret(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, enc := range []string{hex.EncodeToString(v.Bytes()), base64.StdEncoding.EncodeToString(v.Bytes()), base64.RawURLEncoding.EncodeToString(v.Bytes())} {
			if strings.Contains(text+js, enc) || strings.Contains(strings.ToLower(text+js), enc) {
				t.Fatalf("show reveals item %s", n)
			}
		}
	}
}

// TestKeysTPM runs the keys commands against swtpm: they work with PCR
// binding, and after a PCR changes, show reports the refusal and exits 1.
func TestKeysTPM(t *testing.T) {
	tpm := keystoretest.StartSWTPM(t, "")
	d := &keysDevice{dir: t.TempDir()}
	d.writeConfig(t, fmt.Sprintf("backend = \"tpm\"\ntpm_device = %q\ntpm_pcrs = [7]\n", tpm.Device()))
	if code, _, stderr := d.run(t, nil, "keys", "csr", "--cn", "dev"); code != 0 {
		t.Fatalf("csr: %s", stderr)
	}
	code, out, stderr := d.run(t, nil, "keys", "show")
	if code != 0 || !strings.Contains(out, "backend: tpm") || !strings.Contains(out, "item: tls-key: ok") {
		t.Fatalf("show: %d\n%s%s", code, out, stderr)
	}
	tpm.ExtendPCR(7)
	code, out, stderr = d.run(t, nil, "keys", "show")
	if code != exitTampered || !strings.Contains(out, "PCR policy failed") || !strings.Contains(stderr, "some items do not unseal") {
		t.Fatalf("show after PCR change: %d\n%s%s", code, out, stderr)
	}
}
