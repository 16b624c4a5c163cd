package keystore

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

func TestLogVerifierRoundTrip(t *testing.T) {
	s := newTestStore(t)
	var buf bytes.Buffer
	pass := randomPassphrase()
	if err := s.ExportLogVerifier(&buf, "icu-monitor-7", pass); err != nil {
		t.Fatal(err)
	}
	root, err := s.Secret(ItemLogRootKey)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Identity()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), root.Bytes()) || strings.Contains(buf.String(), "log-root-key") {
		t.Fatal("export contains the root key or the plaintext format")
	}
	v, err := ReadLogVerifier(bytes.NewReader(buf.Bytes()), pass)
	if err != nil {
		t.Fatal(err)
	}
	if v.DeviceName != "icu-monitor-7" || !v.RootKey.Equal(root) || !v.DevicePublicKey.Equal(id.Public().(ed25519.PublicKey)) {
		t.Fatalf("read back %q %x, want the exported values", v.DeviceName, v.DevicePublicKey)
	}
	v.Zero()
	if v.RootKey.Len() != 0 {
		t.Fatal("Zero left the root key")
	}
}

func TestLogVerifierWrongPassphrase(t *testing.T) {
	s := newTestStore(t)
	var buf bytes.Buffer
	if err := s.ExportLogVerifier(&buf, "dev", randomPassphrase()); err != nil {
		t.Fatal(err)
	}
	_, err := ReadLogVerifier(&buf, randomPassphrase())
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("err = %v, want ErrWrongPassphrase", err)
	}
}

func TestLogVerifierTampered(t *testing.T) {
	s := newTestStore(t)
	var buf bytes.Buffer
	pass := randomPassphrase()
	if err := s.ExportLogVerifier(&buf, "dev", pass); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"flipped last byte", func() []byte { b := bytes.Clone(good); b[len(b)-1] ^= 1; return b }()},
		{"truncated", good[:len(good)-20]},
		{"empty", nil},
		{"not age", []byte("medguard log verifier v1\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadLogVerifier(bytes.NewReader(tc.data), pass)
			if !errors.Is(err, ErrBadVerifierFile) {
				t.Fatalf("err = %v, want ErrBadVerifierFile", err)
			}
		})
	}
}

func TestLogVerifierRefusesShortPassphrase(t *testing.T) {
	s := newTestStore(t)
	if err := s.ExportLogVerifier(new(bytes.Buffer), "dev", randomPassphrase()[:7]); err == nil {
		t.Fatal("short passphrase accepted")
	}
}

func TestParseLogVerifierRules(t *testing.T) {
	pub := strings.Repeat("A", 43) + "="
	key := strings.Repeat("B", 42) + "A="
	good := "medguard log verifier v1\ndevice: dev\ndevice-public-key: " + pub + "\nlog-root-key: " + key + "\n"
	if _, err := parseLogVerifier([]byte(good)); err != nil {
		t.Fatalf("good input: %v", err)
	}
	for name, in := range map[string]string{
		"other version":   strings.Replace(good, "v1", "v2", 1),
		"trailing":        good + "x\n",
		"missing newline": strings.TrimSuffix(good, "\n"),
		"reordered":       "medguard log verifier v1\ndevice-public-key: " + pub + "\ndevice: dev\nlog-root-key: " + key + "\n",
		"short pub":       strings.Replace(good, pub, "AAAA", 1),
		"short key":       strings.Replace(good, key, "AAAA", 1),
		"bad name":        strings.Replace(good, "device: dev", "device: -dev", 1),
		"bad base64":      strings.Replace(good, key, strings.Repeat("*", 44), 1),
	} {
		if _, err := parseLogVerifier([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParseLogVerifier parses arbitrary plaintext and re-marshals what it
// accepts, which must give the same bytes.
func FuzzParseLogVerifier(f *testing.F) {
	pub := strings.Repeat("A", 43) + "="
	f.Add([]byte("medguard log verifier v1\ndevice: dev\ndevice-public-key: " + pub + "\nlog-root-key: " + strings.Repeat("B", 42) + "A=\n"))
	f.Add([]byte("medguard log verifier v1\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := parseLogVerifier(in)
		if err != nil {
			return
		}
		if out := marshalLogVerifier(v); !bytes.Equal(out, in) {
			t.Fatalf("re-marshal differs:\n%q\n%q", in, out)
		}
	})
}

// FuzzReadLogVerifier feeds arbitrary files to the reader: it must never
// panic and accept nothing but a file under the passphrase.
func FuzzReadLogVerifier(f *testing.F) {
	// The reader's work-factor limit is tested on its own
	// (TestLogVerifierRefusesHighWorkFactor); here it is the tests' export
	// factor, so that a mutated header costs milliseconds, not the half
	// second (and 512 MiB) of 2^19 that left the fuzzer at 4 execs in 20 s.
	defer func(m int) { maxScryptWorkFactor = m }(maxScryptWorkFactor)
	maxScryptWorkFactor = scryptWorkFactor
	s := newTestStore(f)
	var buf bytes.Buffer
	pass := randomPassphrase()
	if err := s.ExportLogVerifier(&buf, "dev", pass); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("age-encryption.org/v1\n-> scrypt AAAA 10\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := ReadLogVerifier(bytes.NewReader(in), pass)
		if err == nil {
			v.Zero()
		}
	})
}

// TestLogVerifierRefusesHighWorkFactor: a file whose scrypt work factor is
// above the reader's limit is refused before any work is done.
func TestLogVerifierRefusesHighWorkFactor(t *testing.T) {
	s := newTestStore(t)
	defer func(w, m int) { scryptWorkFactor, maxScryptWorkFactor = w, m }(scryptWorkFactor, maxScryptWorkFactor)
	scryptWorkFactor, maxScryptWorkFactor = 12, 11
	var buf bytes.Buffer
	pass := randomPassphrase()
	if err := s.ExportLogVerifier(&buf, "dev", pass); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLogVerifier(&buf, pass); !errors.Is(err, ErrBadVerifierFile) {
		t.Fatalf("err = %v, want ErrBadVerifierFile", err)
	}
}

// TestLogVerifierNeverInventsKeys: once the log has started, an export
// after the root key was erased (eventlog.EraseRootKey) is refused instead
// of exporting a new root key that would not verify the log; before, the
// export creates the keys the first boot then uses.
func TestLogVerifierNeverInventsKeys(t *testing.T) {
	s := newTestStore(t)
	var first bytes.Buffer
	pass := randomPassphrase()
	if err := s.ExportLogVerifier(&first, "dev", pass); err != nil {
		t.Fatalf("export before the log started: %v", err)
	}
	if err := s.PutSecret(ItemLogState, NewSecret([]byte("state"))); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := s.ExportLogVerifier(&again, "dev", pass); err != nil {
		t.Fatalf("second export with the root key present: %v", err)
	}
	if err := s.DeleteSecret(ItemLogRootKey); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Items()
	err := s.ExportLogVerifier(&again, "dev", pass)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "erased") {
		t.Fatalf("export after erasure: err = %v, want ErrNotFound saying the key was erased", err)
	}
	if after, _ := s.Items(); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("refused export changed the key store: %v -> %v", before, after)
	}
	if err := s.DeleteSecret(ItemIdentity); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSecret(ItemLogRootKey, NewSecret(make([]byte, 32))); err != nil {
		t.Fatal(err)
	}
	if err := s.ExportLogVerifier(&again, "dev", pass); !errors.Is(err, ErrNotFound) {
		t.Fatalf("export without identity after the log started: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Secret(ItemIdentity); !errors.Is(err, ErrNotFound) {
		t.Fatal("export created a new identity for an existing log")
	}
}
