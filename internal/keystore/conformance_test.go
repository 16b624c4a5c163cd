package keystore_test

import (
	"path/filepath"
	"testing"

	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/keystore/keystoretest"
)

func TestFileBackendConformance(t *testing.T) {
	keystoretest.RunBackendConformance(t, func(t *testing.T) keystore.Backend {
		p := filepath.Join(t.TempDir(), "kek")
		b, err := keystore.EnsureKEKFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}
