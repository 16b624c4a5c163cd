package state

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/medguard/medguard/internal/keystore"
)

func newKey(t testing.TB) *keystore.Secret {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return keystore.NewSecret(b)
}

// conformance is the contract every Store implementation must keep.
func conformance(t *testing.T, open func(t *testing.T) Store) {
	t.Run("schema", func(t *testing.T) {
		s := open(t)
		v, err := s.SchemaVersion()
		if err != nil || v != CurrentSchema() {
			t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, CurrentSchema())
		}
	})
	t.Run("put-get-delete", func(t *testing.T) {
		s := open(t)
		if err := s.Update(func(tx Tx) error { return tx.Put(BucketSettings, "a", []byte("1")) }); err != nil {
			t.Fatal(err)
		}
		err := s.View(func(tx Tx) error {
			v, err := tx.Get(BucketSettings, "a")
			if err != nil || string(v) != "1" {
				t.Errorf("Get = %q, %v", v, err)
			}
			if _, err := tx.Get(BucketSettings, "missing"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get(missing) err = %v, want ErrNotFound", err)
			}
			if _, err := tx.Get("nobucket", "a"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get(no bucket) err = %v, want ErrNotFound", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Update(func(tx Tx) error { return tx.Delete(BucketSettings, "a") }); err != nil {
			t.Fatal(err)
		}
		s.View(func(tx Tx) error {
			if _, err := tx.Get(BucketSettings, "a"); !errors.Is(err, ErrNotFound) {
				t.Errorf("after Delete err = %v", err)
			}
			return nil
		})
	})
	t.Run("rollback", func(t *testing.T) {
		s := open(t)
		boom := errors.New("boom")
		err := s.Update(func(tx Tx) error {
			if err := tx.Put(BucketUsers, "u", []byte("x")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update err = %v", err)
		}
		s.View(func(tx Tx) error {
			if _, err := tx.Get(BucketUsers, "u"); !errors.Is(err, ErrNotFound) {
				t.Errorf("failed Update left data behind: %v", err)
			}
			return nil
		})
	})
	t.Run("readonly", func(t *testing.T) {
		s := open(t)
		if err := s.View(func(tx Tx) error { return tx.Put(BucketUsers, "u", nil) }); err == nil {
			t.Fatal("Put in View succeeded")
		}
	})
	t.Run("foreach-order", func(t *testing.T) {
		s := open(t)
		s.Update(func(tx Tx) error {
			for _, k := range []string{"c", "a", "b"} {
				tx.Put(BucketSessions, k, []byte(k))
			}
			return nil
		})
		var got string
		s.View(func(tx Tx) error {
			return tx.ForEach(BucketSessions, func(k string, v []byte) error { got += k; return nil })
		})
		if got != "abc" {
			t.Fatalf("ForEach order = %q, want abc", got)
		}
	})
	t.Run("bad-bucket", func(t *testing.T) {
		s := open(t)
		for _, b := range []string{"", "Upper", "../x", "a/b"} {
			if err := s.Update(func(tx Tx) error { return tx.Put(b, "k", nil) }); err == nil {
				t.Errorf("Put to bucket %q succeeded", b)
			}
		}
	})
	t.Run("secret", func(t *testing.T) {
		s := open(t)
		secret := []byte("the-secret-value")
		s.Update(func(tx Tx) error { return tx.PutSecret(BucketUsers, "k", secret) })
		s.View(func(tx Tx) error {
			raw, _ := tx.Get(BucketUsers, "k")
			if bytes.Contains(raw, secret) {
				t.Error("secret stored in plaintext")
			}
			v, err := tx.GetSecret(BucketUsers, "k")
			if err != nil || !bytes.Equal(v, secret) {
				t.Errorf("GetSecret = %q, %v", v, err)
			}
			return nil
		})
	})
	t.Run("secret-moved-or-tampered", func(t *testing.T) {
		// Attack: copy a ciphertext to another key, or flip a bit in it.
		s := open(t)
		s.Update(func(tx Tx) error {
			tx.PutSecret(BucketUsers, "alice", []byte("a"))
			raw, _ := tx.Get(BucketUsers, "alice")
			tx.Put(BucketUsers, "mallory", raw)
			raw[len(raw)-1] ^= 1
			return tx.Put(BucketUsers, "flipped", raw)
		})
		s.View(func(tx Tx) error {
			for _, k := range []string{"mallory", "flipped"} {
				if _, err := tx.GetSecret(BucketUsers, k); !errors.Is(err, ErrDecrypt) {
					t.Errorf("GetSecret(%s) err = %v, want ErrDecrypt", k, err)
				}
			}
			return nil
		})
	})
}

func TestMemoryConformance(t *testing.T) {
	conformance(t, func(t *testing.T) Store {
		s, err := NewMemory(newKey(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestBoltConformance(t *testing.T) {
	conformance(t, func(t *testing.T) Store {
		s, err := OpenBolt(filepath.Join(t.TempDir(), "state.db"), newKey(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestBoltPersistsAndRefusesNewerSchema(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.db")
	key := newKey(t)
	s, err := OpenBolt(p, key)
	if err != nil {
		t.Fatal(err)
	}
	s.Update(func(tx Tx) error { return tx.Put(BucketMeta, schemaKey, []byte("99")) })
	s.Close()
	if _, err := OpenBolt(p, key); err == nil {
		t.Fatal("opened a database with a newer schema")
	}
}

func TestBoltCorruptFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(p, bytes.Repeat([]byte("garbage!"), 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := OpenBolt(p, newKey(t))
	if err == nil {
		t.Fatal("opened a corrupt database")
	}
	if !bytes.Contains([]byte(err.Error()), []byte(p)) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestWrongDataKeySize(t *testing.T) {
	if _, err := NewMemory(keystore.NewSecret(make([]byte, 16))); err == nil {
		t.Fatal("accepted a 16-byte data key")
	}
}

// TestBoltUpdateWithoutWritesLeavesFile: an Update that only reads (a
// read-modify-write that had nothing to change) does not touch the file,
// so that a boot refused later changed nothing on disk.
func TestBoltUpdateWithoutWritesLeavesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenBolt(p, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before, _ := os.ReadFile(p)
	err = s.Update(func(tx Tx) error {
		_, err := tx.Get(BucketSettings, "floor")
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(p); !bytes.Equal(after, before) {
		t.Fatal("an Update without writes changed the database file")
	}
	if err := s.Update(func(tx Tx) error { return tx.Put(BucketSettings, "floor", []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(p); bytes.Equal(after, before) {
		t.Fatal("an Update with a write left the file as it was")
	}
}
