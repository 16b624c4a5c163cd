package main

import (
	"context"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/keystore"
)

// The "keys" commands administer the device's key store on the device
// itself (they need the key-encryption key or the TPM): TLS certificate
// requests and installation, the log verifier export, and a report that
// never shows a secret.

func init() {
	register(&command{
		name:    "keys csr",
		summary: "write a certificate signing request for the device's TLS key",
		usage:   "medguard keys csr [--config FILE] [--state-dir DIR] --cn NAME [--dns NAME]... [--ip ADDR]... [--org ORG] [--out FILE]",
		example: "medguard keys csr --config /etc/medguard/medguard.toml --cn monitor-7 --dns monitor-7.icu.example --ip 10.1.2.3 --out monitor-7.csr",
		run:     runKeysCSR,
	})
	register(&command{
		name:    "keys install-cert",
		summary: "check and install a TLS certificate chain issued for the device's key",
		usage:   "medguard keys install-cert [--config FILE] [--state-dir DIR] [--ca FILE] [--json] CERT.pem",
		example: "medguard keys install-cert --config /etc/medguard/medguard.toml --ca hospital-ca.pem monitor-7.pem",
		run:     runKeysInstallCert,
	})
	register(&command{
		name:    "keys export-log-verifier",
		summary: "export the event log's verifier key, encrypted under a passphrase",
		usage:   "medguard keys export-log-verifier [--config FILE] [--state-dir DIR] [--passphrase-file FILE] --out FILE",
		example: "medguard keys export-log-verifier --config /etc/medguard/medguard.toml --out monitor-7.verifier.age\n" +
			"medguard log verify --key monitor-7.verifier.age LOGDIR",
		run: runKeysExportLogVerifier,
	})
	register(&command{
		name:    "keys show",
		summary: "show the key store: backend, items, identity and TLS certificate (never a secret)",
		usage:   "medguard keys show [--config FILE] [--state-dir DIR] [--json]",
		example: "medguard keys show --config /etc/medguard/medguard.toml --json",
		run:     runKeysShow,
	})
	register(&command{
		name:    "keys create-kek",
		summary: "create a key-encryption key file for the sealed-file backend",
		usage:   "medguard keys create-kek FILE",
		example: "medguard keys create-kek /mnt/protected/medguard.kek",
		run:     runKeysCreateKEK,
	})
}

// storeFlags are the flags every keys command has to find the key store.
type storeFlags struct {
	configFile string
	stateDir   string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.configFile, "config", "", "configuration `FILE` (its [device] and [keystore] tables); default: the built-in defaults")
	fs.StringVar(&f.stateDir, "state-dir", "", "state `DIR`ectory (overrides device.state_dir)")
}

// load reads the configuration, with the --state-dir override applied.
func (f *storeFlags) load() (config.Config, error) {
	cfg := config.Default()
	if f.configFile != "" {
		var err error
		if cfg, err = config.Load(f.configFile); err != nil {
			return cfg, err
		}
	}
	if f.stateDir != "" {
		abs, err := filepath.Abs(f.stateDir)
		if err != nil {
			return cfg, err
		}
		cfg.Device.StateDir = abs
	}
	return cfg, nil
}

// open opens the key store that the flags select.
func (f *storeFlags) open() (*keystore.Store, config.Config, error) {
	cfg, err := f.load()
	if err != nil {
		return nil, cfg, err
	}
	s, err := keystore.OpenFromConfig(cfg.Device.StateDir, keystore.Config(cfg.KeyStore))
	return s, cfg, err
}

// keysError gives a refused key (a damaged, foreign or PCR-bound item)
// exit code 1, like any tampering found; everything else exits 2.
func keysError(err error) error {
	if errors.Is(err, keystore.ErrUnseal) {
		return &exitError{code: exitTampered, err: err}
	}
	return err
}

// listFlag collects a repeated string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runKeysCSR(ctx context.Context, e *env, args []string) error {
	fs := newFlags("keys csr")
	var sf storeFlags
	sf.register(fs)
	cn := fs.String("cn", "", "subject common `NAME`")
	org := fs.String("org", "", "subject organisation")
	out := fs.String("out", "", "write the request to `FILE` instead of standard output")
	var dns, ips listFlag
	fs.Var(&dns, "dns", "a DNS `NAME` of the device (repeatable)")
	fs.Var(&ips, "ip", "an IP `ADDR`ess of the device (repeatable)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *cn == "" {
		return usagef("--cn is required")
	}
	subject := pkix.Name{CommonName: *cn}
	if *org != "" {
		subject.Organization = []string{*org}
	}
	s, _, err := sf.open()
	if err != nil {
		return keysError(err)
	}
	defer s.Close()
	csr, err := s.CSR(subject, append(append([]string(nil), dns...), ips...))
	if err != nil {
		return keysError(err)
	}
	if *out == "" {
		_, err = e.stdout.Write(csr)
		return err
	}
	return writeNewFile(*out, csr, 0o644)
}

func runKeysInstallCert(ctx context.Context, e *env, args []string) error {
	fs := newFlags("keys install-cert")
	var sf storeFlags
	sf.register(fs)
	caFile := fs.String("ca", "", "CA certificate `FILE` (PEM) the chain must lead to")
	asJSON := fs.Bool("json", false, "print the installed certificate as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one certificate file")
	}
	chain, err := readSmallFile(pos[0])
	if err != nil {
		return err
	}
	var ca []byte
	if *caFile != "" {
		if ca, err = readSmallFile(*caFile); err != nil {
			return err
		}
	}
	s, _, err := sf.open()
	if err != nil {
		return keysError(err)
	}
	defer s.Close()
	if err := s.InstallCertificate(chain, ca); err != nil {
		return keysError(fmt.Errorf("%s: %w", pos[0], err))
	}
	info, err := s.CertificateInfo()
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, info)
	}
	fmt.Fprintf(e.stdout, "installed: %s\n", filepath.Join(s.Dir(), keystore.CertFile))
	printCertInfo(e.stdout, info)
	fmt.Fprintln(e.stdout, "note: a running daemon serves the new certificate within a minute (it reloads its certificate at most once a minute)")
	return nil
}

func runKeysExportLogVerifier(ctx context.Context, e *env, args []string) error {
	fs := newFlags("keys export-log-verifier")
	var sf storeFlags
	sf.register(fs)
	out := fs.String("out", "", "write the encrypted verifier to `FILE` (must not exist)")
	passFile := fs.String("passphrase-file", "", "read the passphrase from the first line of `FILE` instead of standard input")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *out == "" {
		return usagef("--out is required")
	}
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("export log verifier: %s exists; refusing to overwrite it", *out)
	}
	pass, err := readPassphrase(e, *passFile, true)
	if err != nil {
		return err
	}
	defer clear(pass)
	s, cfg, err := sf.open()
	if err != nil {
		return keysError(err)
	}
	defer s.Close()
	var buf strings.Builder
	if err := s.ExportLogVerifier(&buf, cfg.Device.Name, pass); err != nil {
		return keysError(err)
	}
	if err := writeNewFile(*out, []byte(buf.String()), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "log-verifier: %s\ndevice: %s\n", *out, cfg.Device.Name)
	return nil
}

func runKeysCreateKEK(ctx context.Context, e *env, args []string) error {
	fs := newFlags("keys create-kek")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one file name")
	}
	if err := keystore.CreateKEKFile(pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "key-encryption-key: %s\n", pos[0])
	return nil
}

// writeNewFile writes data to a new file at path (mode perm), refusing to
// replace an existing one, and removes it again if the write fails.
func writeNewFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readSmallFile reads a certificate or CA file, at most 1 MiB.
func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("read %s: larger than 1 MiB", path)
	}
	return b, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printCertInfo(w io.Writer, c *keystore.CertInfo) {
	fmt.Fprintf(w, "tls-subject: %s\ntls-issuer: %s\ntls-self-signed: %t\n", c.Subject, c.Issuer, c.SelfSigned)
	fmt.Fprintf(w, "tls-names: %s\n", strings.Join(append(append([]string(nil), c.DNSNames...), c.IPs...), ", "))
	fmt.Fprintf(w, "tls-not-after: %s\ntls-sha256: %s\n", c.NotAfter.Format("2006-01-02T15:04:05Z"), c.SHA256)
}

// b64 encodes a public key for reports.
func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
