package keystore

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newKEK(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kek")
	if err := CreateKEKFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func newFileBackend(t testing.TB) *FileBackend {
	t.Helper()
	b, err := NewFileBackend(newKEK(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestCreateKEKFile(t *testing.T) {
	p := newKEK(t)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != MinKEKSize {
		t.Fatalf("KEK file mode %v size %d, want 0600 and %d", fi.Mode(), fi.Size(), MinKEKSize)
	}
	old, _ := os.ReadFile(p)
	if err := CreateKEKFile(p); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second CreateKEKFile: err = %v, want ErrExist", err)
	}
	if now, _ := os.ReadFile(p); !bytes.Equal(now, old) {
		t.Fatal("CreateKEKFile replaced an existing KEK")
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".*tmp*")); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

func TestNewFileBackendRefusesBadKEK(t *testing.T) {
	dir := t.TempDir()
	random := func(n int) []byte { b := make([]byte, n); rand.Read(b); return b }
	for _, tc := range []struct {
		name string
		data []byte
		mode os.FileMode
		want string
	}{
		{"group readable", random(32), 0o640, "mode 0640"},
		{"world readable", random(32), 0o604, "mode 0604"},
		{"group writable", random(32), 0o620, "mode 0620"},
		{"short", random(31), 0o600, "31 bytes"},
		{"empty", nil, 0o600, "0 bytes"},
		{"too long", random(maxKEKSize + 1), 0o600, "4097 bytes"},
		{"all zero", make([]byte, 32), 0o600, "not a random key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(p, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, err := NewFileBackend(p)
			if !errors.Is(err, ErrKEKFile) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrKEKFile naming %s and %q", err, p, tc.want)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		p := filepath.Join(dir, "missing")
		_, err := NewFileBackend(p)
		if !errors.Is(err, ErrKEKFile) || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err = %v, want ErrKEKFile and ErrNotExist", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		p := filepath.Join(dir, "d")
		os.Mkdir(p, 0o700)
		if _, err := NewFileBackend(p); !errors.Is(err, ErrKEKFile) {
			t.Fatalf("err = %v, want ErrKEKFile", err)
		}
	})
}

func TestFileBackendLongerKEK(t *testing.T) {
	p := filepath.Join(t.TempDir(), "kek")
	b := make([]byte, 64)
	rand.Read(b)
	os.WriteFile(p, b, 0o400)
	fb, err := NewFileBackend(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	blob, err := fb.Seal("x", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := fb.Unseal("x", blob); err != nil || string(pt) != "v" {
		t.Fatalf("unseal: %q, %v", pt, err)
	}
}

// TestFileBackendSameKEKAcrossOpens: a restart with the same KEK file
// unseals what the previous run sealed.
func TestFileBackendSameKEKAcrossOpens(t *testing.T) {
	p := newKEK(t)
	b1, _ := NewFileBackend(p)
	blob, err := b1.Seal("data-key", []byte("0123456789abcdef"))
	b1.Close()
	if err != nil {
		t.Fatal(err)
	}
	b2, err := NewFileBackend(p)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if pt, err := b2.Unseal("data-key", blob); err != nil || string(pt) != "0123456789abcdef" {
		t.Fatalf("unseal after reopen: %v", err)
	}
}

func TestFileBackendErrorsSayWhy(t *testing.T) {
	b := newFileBackend(t)
	blob, _ := b.Seal("identity", make([]byte, 32))
	other := newFileBackend(t)
	foreign, _ := other.Seal("identity", make([]byte, 32))
	tpmBlob := append(blobHeader(blobKindTPM, 1), make([]byte, 40)...)
	v2 := bytes.Clone(blob)
	v2[4] = 2
	flipped := bytes.Clone(blob)
	flipped[len(flipped)-1] ^= 0x80
	for _, tc := range []struct {
		name, item string
		blob       []byte
		want       string
	}{
		{"foreign", "identity", foreign, "another key-encryption key"},
		{"truncated", "identity", blob[:20], "truncated"},
		{"header only", "identity", blob[:3], "truncated"},
		{"tpm blob", "identity", tpmBlob, "sealed by the tpm backend"},
		{"future version", "identity", v2, "format version 2"},
		{"not a blob", "identity", []byte("-----BEGIN EC PRIVATE KEY-----"), "not a medguard key blob"},
		{"tampered", "identity", flipped, "fails authentication"},
		{"other item", "tls-key", blob, "fails authentication"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.Unseal(tc.item, tc.blob)
			if !errors.Is(err, ErrUnseal) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrUnseal saying %q", err, tc.want)
			}
		})
	}
}

func TestFileBackendCloseZeroes(t *testing.T) {
	b := newFileBackend(t)
	key := b.key.Bytes()
	if allSame(key) {
		t.Fatal("derived key looks empty before Close")
	}
	b.Close()
	for _, c := range key {
		if c != 0 {
			t.Fatal("Close left the derived key in memory")
		}
	}
	if _, err := b.Unseal("x", nil); err == nil {
		t.Fatal("Unseal after Close succeeded")
	}
}

func TestFileBackendRefusesHugeItem(t *testing.T) {
	b := newFileBackend(t)
	if _, err := b.Seal("x", make([]byte, maxSealedItem+1)); err == nil {
		t.Fatal("sealed an item over the limit")
	}
}

// FuzzOpenFileBlob: arbitrary blobs never panic and never unseal, except
// the seed that was really sealed.
func FuzzOpenFileBlob(f *testing.F) {
	b := newFileBackend(f)
	good, _ := b.Seal("identity", []byte("0123456789abcdef0123456789abcdef"))
	f.Add(good)
	f.Add(good[:30])
	f.Add([]byte("MGKS\x01\x01"))
	f.Add([]byte("MGKS\x01\x02"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, blob []byte) {
		pt, err := b.Unseal("identity", blob)
		if err == nil && !bytes.Equal(blob, good) {
			t.Fatalf("unsealed a blob that was never sealed: %q", pt)
		}
		if err != nil && !errors.Is(err, ErrUnseal) {
			t.Fatalf("error does not wrap ErrUnseal: %v", err)
		}
	})
}
