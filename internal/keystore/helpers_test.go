package keystore

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
)

func init() {
	// Tests export with a cheap scrypt work factor; the reader's limit is
	// unchanged.
	scryptWorkFactor = 10
}

// nameBackend is a Backend that only binds the item name, for tests of the
// Store's own logic.
type nameBackend struct{}

func (nameBackend) Kind() string { return "test" }
func (nameBackend) Seal(name string, pt []byte) ([]byte, error) {
	return append([]byte(name+"\x00"), pt...), nil
}
func (nameBackend) Unseal(name string, blob []byte) ([]byte, error) {
	p := []byte(name + "\x00")
	if !bytes.HasPrefix(blob, p) {
		return nil, fmt.Errorf("blob is not for %s: %w", name, ErrUnseal)
	}
	return append([]byte(nil), blob[len(p):]...), nil
}
func (nameBackend) Close() error { return nil }

func newTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), nameBackend{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// randomPassphrase returns a passphrase generated for one test: no
// password is ever written into the tests.
func randomPassphrase() []byte {
	b := make([]byte, 12)
	rand.Read(b)
	return []byte(hex.EncodeToString(b))
}
