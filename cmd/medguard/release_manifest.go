package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/integrity"
)

// The release side of software integrity (docs/integrity.md): the maker's
// signing keys and signed manifests.

func init() {
	register(&command{
		name:    "release keygen",
		summary: "create a release signing key (private key file encrypted with a passphrase)",
		usage:   "medguard release keygen (--out KEYFILE | --pkcs11-module SO --pkcs11-token LABEL --pkcs11-id HEX) [--pub PUBFILE] [--passphrase-file FILE] [--pin-file FILE] [--work-factor N] [--json]",
		example: "MEDGUARD_RELEASE_PASSPHRASE='correct horse battery staple' medguard release keygen --out maker.key --pub maker.pub\n" +
			"MEDGUARD_PKCS11_PIN=… medguard release keygen --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --pkcs11-token release --pkcs11-id 01 --pub hsm.pub\n" +
			"# then put the printed public key into [integrity] trusted_keys",
		run: runKeygen,
	})
	register(&command{
		name:    "release manifest",
		summary: "write the signed manifest of every file under a software root",
		usage:   "medguard release manifest (--key KEYFILE … | --pkcs11-module SO --pkcs11-token LABEL --pkcs11-id HEX) --product ID --version V --security-version N [--out FILE] [--passphrase-file FILE] [--pin-file FILE] ROOT",
		example: "MEDGUARD_RELEASE_PASSPHRASE=… medguard release manifest --key maker.key --product vitalsim --version 1.4.2 --security-version 7 --out manifest.dsse.json ./rootfs/opt/medguard/software",
		run:     runReleaseManifest,
	})
	register(&command{
		name:    "release cosign",
		summary: "add another release key's signature to a signed manifest (for a threshold of signers)",
		usage:   "medguard release cosign (--key KEYFILE | --pkcs11-module SO --pkcs11-token LABEL --pkcs11-id HEX) [--passphrase-file FILE] [--pin-file FILE] MANIFEST",
		example: "MEDGUARD_RELEASE_PASSPHRASE=… medguard release cosign --key second-signer.key manifest.dsse.json",
		run:     runCosign,
	})
}

func runCosign(ctx context.Context, e *env, args []string) error {
	fs := newFlags("release cosign")
	key := fs.String("key", "", "encrypted private key file")
	ppf := fs.String("passphrase-file", "", "file whose first line is the passphrase")
	hsm := addHSMFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (*key == "") == !hsm.used() {
		return usagef("release cosign needs --key KEYFILE or --pkcs11-module …, and one MANIFEST")
	}
	var keys []string
	if *key != "" {
		keys = []string{*key}
	}
	signers, err := loadSigners(ctx, e, keys, *ppf, hsm)
	if err != nil {
		return err
	}
	defer zeroAll(signers)
	k := signers[0]
	env, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("read manifest: %w", err)
	}
	out, err := integrity.Cosign(ctx, env, k)
	if err != nil {
		return err
	}
	// Replace atomically: a crash leaves the old or the new file, never half.
	tmp := pos[0] + ".cosign.tmp"
	if err := writeNew(tmp, append(out, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, pos[0]); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace %s: %w", pos[0], err)
	}
	fmt.Fprintf(e.stderr, "medguard: %s now also signed by %s\n", pos[0], k.PublicKey().ID())
	return nil
}

// hsmFlags select a release key in an HSM (PKCS#11, through OpenSC's
// pkcs11-tool). The PIN comes from --pin-file or MEDGUARD_PKCS11_PIN.
type hsmFlags struct{ module, token, id, pinFile *string }

func addHSMFlags(fs *flag.FlagSet) hsmFlags {
	return hsmFlags{
		module:  fs.String("pkcs11-module", "", "PKCS#11 module of the HSM (e.g. /usr/lib/softhsm/libsofthsm2.so)"),
		token:   fs.String("pkcs11-token", "", "token label"),
		id:      fs.String("pkcs11-id", "", "key object id, hex"),
		pinFile: fs.String("pin-file", "", "file whose first line is the HSM user PIN (else MEDGUARD_PKCS11_PIN)"),
	}
}

func (h hsmFlags) used() bool { return *h.module != "" }

func (h hsmFlags) key(e *env) (integrity.PKCS11Key, error) {
	pin := e.getenv("MEDGUARD_PKCS11_PIN")
	if *h.pinFile != "" {
		b, err := os.ReadFile(*h.pinFile)
		if err != nil {
			return integrity.PKCS11Key{}, fmt.Errorf("read PIN: %w", err)
		}
		pin, _, _ = strings.Cut(string(b), "\n")
	}
	if pin == "" || *h.token == "" || *h.id == "" {
		return integrity.PKCS11Key{}, usagef("an HSM key needs --pkcs11-token, --pkcs11-id and a PIN (--pin-file or MEDGUARD_PKCS11_PIN)")
	}
	return integrity.PKCS11Key{Module: *h.module, Token: *h.token, ID: *h.id, PIN: pin}, nil
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// passphrase reads the passphrase from a file (first line) or from
// MEDGUARD_RELEASE_PASSPHRASE; it is never taken from the command line,
// where other users could see it.
func passphrase(e *env, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read passphrase: %w", err)
		}
		p, _, _ := strings.Cut(string(b), "\n")
		if p = strings.TrimRight(p, "\r"); p == "" {
			return "", fmt.Errorf("passphrase file %s: empty first line", file)
		}
		return p, nil
	}
	if p := e.getenv("MEDGUARD_RELEASE_PASSPHRASE"); p != "" {
		return p, nil
	}
	return "", usagef("no passphrase: give --passphrase-file FILE or set MEDGUARD_RELEASE_PASSPHRASE")
}

func runKeygen(ctx context.Context, e *env, args []string) error {
	fs := newFlags("release keygen")
	out := fs.String("out", "", "private key file to create")
	pub := fs.String("pub", "", "public key file to create")
	ppf := fs.String("passphrase-file", "", "file whose first line is the passphrase")
	wf := fs.Int("work-factor", integrity.DefaultWorkFactor, "scrypt work factor (log2 N), 10 to 30")
	asJSON := fs.Bool("json", false, "print JSON")
	hsm := addHSMFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || (*out == "") == !hsm.used() {
		return usagef("release keygen needs either --out KEYFILE or --pkcs11-module, and no arguments")
	}
	if hsm.used() {
		return keygenHSM(ctx, e, hsm, *pub, *asJSON)
	}
	pass, err := passphrase(e, *ppf)
	if err != nil {
		return err
	}
	if len(pass) < 12 {
		return usagef("passphrase too short: at least 12 characters")
	}
	k, err := integrity.GenerateKey()
	if err != nil {
		return err
	}
	defer k.Zero()
	data, err := integrity.EncryptPrivateKey(k, pass, *wf)
	if err != nil {
		return err
	}
	if err := writeNew(*out, data, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "medguard: wrote encrypted private key %s (key id %s)\n", *out, k.PublicKey().ID())
	return printPublic(e, k.PublicKey(), *pub, *asJSON, map[string]string{"private_key_file": *out})
}

func keygenHSM(ctx context.Context, e *env, hsm hsmFlags, pub string, asJSON bool) error {
	spec, err := hsm.key(e)
	if err != nil {
		return err
	}
	k, err := integrity.GeneratePKCS11Key(ctx, spec, "medguard-release")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "medguard: generated release key in HSM token %q, id %s (key id %s)\n", spec.Token, spec.ID, k.PublicKey().ID())
	return printPublic(e, k.PublicKey(), pub, asJSON, map[string]string{"pkcs11_token": spec.Token, "pkcs11_id": spec.ID})
}

func printPublic(e *env, p integrity.PublicKey, pubFile string, asJSON bool, extra map[string]string) error {
	if pubFile != "" {
		if err := writeNew(pubFile, []byte(p.String()+"\n"), 0o644); err != nil {
			return err
		}
	}
	if asJSON {
		m := map[string]string{"public_key": p.String(), "key_id": p.ID()}
		for k, v := range extra {
			m[k] = v
		}
		return json.NewEncoder(e.stdout).Encode(m)
	}
	fmt.Fprintf(e.stdout, "%s\n", p)
	return nil
}

// writeNew creates path with data; it refuses to overwrite, so that a key
// is never lost by a typo.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
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

func runReleaseManifest(ctx context.Context, e *env, args []string) error {
	fs := newFlags("release manifest")
	var keys multiFlag
	fs.Var(&keys, "key", "encrypted private key file (repeat for several signers)")
	product := fs.String("product", "", "product identifier")
	version := fs.String("version", "", "release version")
	secver := fs.Uint64("security-version", 0, "security version (raise it with every security fix)")
	out := fs.String("out", "", "output file (default: standard output)")
	ppf := fs.String("passphrase-file", "", "file whose first line is the passphrase")
	hsm := addHSMFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (len(keys) == 0 && !hsm.used()) || *product == "" || *version == "" || !flagSet(fs, "security-version") {
		return usagef("release manifest needs --key (or --pkcs11-module …), --product, --version, --security-version and one ROOT")
	}
	signers, err := loadSigners(ctx, e, keys, *ppf, hsm)
	if err != nil {
		return err
	}
	defer zeroAll(signers)
	progress, stop := terminalProgress(e, "hashing")
	m, err := integrity.Build(ctx, pos[0], integrity.BuildOptions{Product: *product, Version: *version, SecurityVersion: *secver, Now: time.Now, Progress: progress})
	stop()
	if err != nil {
		return err
	}
	env, err := integrity.Sign(ctx, m, signers...)
	if err != nil {
		return err
	}
	env = append(env, '\n')
	if *out == "" {
		_, err = e.stdout.Write(env)
		return err
	}
	if err := writeNew(*out, env, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "medguard: wrote %s: %d files, signed by %d key(s)\n", *out, len(m.Files), len(signers))
	return nil
}

// loadSigners opens the key files (with the passphrase) and the HSM key.
func loadSigners(ctx context.Context, e *env, keys []string, ppf string, hsm hsmFlags) ([]integrity.Signer, error) {
	var signers []integrity.Signer
	if len(keys) > 0 {
		pass, err := passphrase(e, ppf)
		if err != nil {
			return nil, err
		}
		for _, kf := range keys {
			k, err := readPrivateKey(kf, pass)
			if err != nil {
				zeroAll(signers)
				return nil, err
			}
			signers = append(signers, k)
		}
	}
	if hsm.used() {
		spec, err := hsm.key(e)
		if err != nil {
			return nil, err
		}
		k, err := integrity.OpenPKCS11Key(ctx, spec)
		if err != nil {
			return nil, err
		}
		signers = append(signers, k)
	}
	return signers, nil
}

func readPrivateKey(kf, pass string) (*integrity.PrivateKey, error) {
	data, err := os.ReadFile(kf)
	if err != nil {
		return nil, fmt.Errorf("read release key: %w", err)
	}
	k, err := integrity.DecryptPrivateKey(data, pass)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kf, err)
	}
	return k, nil
}

// zeroAll zeroes the private keys among signers.
func zeroAll(signers []integrity.Signer) {
	for _, s := range signers {
		if k, ok := s.(*integrity.PrivateKey); ok {
			k.Zero()
		}
	}
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
