// Package keystoretest provides a keystore.Backend for unit tests of the
// parts that use the key store. It protects nothing: integration tests use
// the TPM (swtpm) and sealed-file backends.
package keystoretest

import (
	"bytes"
	"fmt"

	"github.com/medguard/medguard/internal/keystore"
)

// Backend "seals" by prefixing the item name. It detects a blob stored
// under another name, nothing more.
type Backend struct{}

// Kind implements keystore.Backend.
func (Backend) Kind() string { return "test" }

// Seal implements keystore.Backend.
func (Backend) Seal(name string, pt []byte) ([]byte, error) {
	return append([]byte(name+"\x00"), pt...), nil
}

// Unseal implements keystore.Backend.
func (Backend) Unseal(name string, blob []byte) ([]byte, error) {
	p := []byte(name + "\x00")
	if !bytes.HasPrefix(blob, p) {
		return nil, fmt.Errorf("blob is not for %s: %w", name, keystore.ErrUnseal)
	}
	return append([]byte(nil), blob[len(p):]...), nil
}

// Close implements keystore.Backend.
func (Backend) Close() error { return nil }

// NewStore opens a key store in dir with the test backend.
func NewStore(dir string) (*keystore.Store, error) {
	return keystore.Open(dir, Backend{})
}
