package keystore

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestOpenFromConfigSealedFile(t *testing.T) {
	state := t.TempDir()
	kek := filepath.Join(t.TempDir(), "kek")
	if err := CreateKEKFile(kek); err != nil {
		t.Fatal(err)
	}
	s, err := OpenFromConfig(state, Config{Backend: BackendSealedFile, KEKFile: kek})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Dir() != filepath.Join(state, "keys") || s.Backend() != "sealed-file" {
		t.Fatalf("dir %s backend %s", s.Dir(), s.Backend())
	}
	if fi, _ := os.Stat(s.Dir()); fi.Mode().Perm() != 0o700 {
		t.Fatalf("keys dir mode %v", fi.Mode())
	}
	if _, err := s.IdentityPublic(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("IdentityPublic before creation: %v", err)
	}
	id, err := s.Identity()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := s.IdentityPublic()
	if err != nil || !pub.Equal(id.Public()) {
		t.Fatalf("IdentityPublic: %v", err)
	}
	s.EnsureSecret(ItemDataKey, 32)
	items, _ := s.Items()
	if !slices.Equal(items, []string{ItemDataKey, ItemIdentity}) {
		t.Fatalf("items %v", items)
	}
	if fi, _ := os.Stat(filepath.Join(s.Dir(), "identity.sealed")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("item file mode %v", fi.Mode())
	}
}

func TestOpenFromConfigErrors(t *testing.T) {
	state := t.TempDir()
	for _, tc := range []struct {
		name, dir string
		c         Config
		want      string
	}{
		{"missing state dir", filepath.Join(state, "nope"), Config{Backend: BackendSealedFile}, "nope"},
		{"unknown backend", state, Config{Backend: "hsm"}, `"hsm"`},
		{"missing kek", state, Config{Backend: BackendSealedFile, KEKFile: filepath.Join(state, "kek")}, "kek"},
		{"missing tpm", state, Config{Backend: BackendTPM, TPMDevice: filepath.Join(state, "tpmrm0")}, "tpmrm0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenFromConfig(tc.dir, tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(state, "keys")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed open created the keys directory")
	}
}

// TestStoreDamagedItemNamesFile: the boot stops with a message naming the
// damaged file, and the item is not replaced.
func TestStoreDamagedItemNamesFile(t *testing.T) {
	kek := newKEK(t)
	b, _ := NewFileBackend(kek)
	s, _ := Open(t.TempDir(), b)
	defer s.Close()
	if _, err := s.Identity(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(s.Dir(), "identity.sealed")
	data, _ := os.ReadFile(p)
	data[len(data)-1] ^= 1
	os.WriteFile(p, data, 0o600)
	_, err := s.Identity()
	if !errors.Is(err, ErrUnseal) || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want ErrUnseal naming %s", err, p)
	}
	if now, _ := os.ReadFile(p); string(now) != string(data) {
		t.Fatal("damaged item was replaced")
	}
	os.WriteFile(p, make([]byte, maxBlobFile+1), 0o600)
	if _, err := s.Secret(ItemIdentity); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("huge item file: %v", err)
	}
}

// TestNoPlaintextOnDisk is the attack test of sealing at rest: after every
// item and the certificate exist, no file in the key store holds any
// item's value, or the KEK, in any common encoding.
func TestNoPlaintextOnDisk(t *testing.T) {
	state := t.TempDir()
	kek := filepath.Join(t.TempDir(), "kek")
	CreateKEKFile(kek)
	s, err := OpenFromConfig(state, Config{Backend: BackendSealedFile, KEKFile: kek})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.EnsureTLSCertificate([]string{"dev.example"}); err != nil {
		t.Fatal(err)
	}
	if err := s.ExportLogVerifier(io.Discard, "dev", randomPassphrase()); err != nil {
		t.Fatal(err)
	}
	s.EnsureSecret(ItemDataKey, 32)
	kekBytes, _ := os.ReadFile(kek)
	secrets := [][]byte{kekBytes}
	names, _ := s.Items()
	for _, n := range names {
		v, err := s.Secret(n)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, v.Bytes())
	}
	if len(secrets) != 5 {
		t.Fatalf("want the KEK and 4 items, have %d secrets", len(secrets))
	}
	filepath.WalkDir(state, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		for _, sec := range secrets {
			for _, enc := range [][]byte{sec, []byte(hex.EncodeToString(sec)), []byte(base64.StdEncoding.EncodeToString(sec))} {
				if bytes.Contains(data, enc[:16]) {
					t.Errorf("%s contains a secret in plaintext", p)
				}
			}
		}
		if bytes.Contains(data, []byte("PRIVATE KEY")) {
			t.Errorf("%s contains a PEM private key", p)
		}
		return nil
	})
}

// TestEnsureSecretRace: callers racing to create an item all get the one
// value that was stored.
func TestEnsureSecretRace(t *testing.T) {
	kek := newKEK(t)
	dir := t.TempDir()
	const n = 8
	got := make(chan *Secret, n)
	for range n {
		go func() {
			b, _ := NewFileBackend(kek)
			s, _ := Open(dir, b) // one Store each, like daemon and CLI
			defer s.Close()
			v, err := s.EnsureSecret(ItemDataKey, 32)
			if err != nil {
				t.Error(err)
			}
			got <- v
		}()
	}
	first := <-got
	for range n - 1 {
		if v := <-got; !v.Equal(first) {
			t.Fatal("racing EnsureSecret calls returned different values")
		}
	}
}

func TestDeleteSecret(t *testing.T) {
	s := newTestStore(t)
	if _, err := s.EnsureSecret(ItemLogRootKey, 32); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSecret(ItemLogRootKey); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Secret(ItemLogRootKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.DeleteSecret(ItemLogRootKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := s.DeleteSecret("../escape"); err == nil {
		t.Fatal("bad item name accepted")
	}
}
