package keystore

import (
	"fmt"
	"os"
	"path/filepath"
)

// Config selects and configures the backend. Its fields are those of the
// [keystore] table of the configuration file (config.KeyStore), in the
// same order, so that the daemon can convert one into the other:
// keystore.Config(cfg.KeyStore).
type Config struct {
	// Backend is "tpm" or "sealed-file".
	Backend string
	// TPMDevice is the TPM for the tpm backend: /dev/tpmrm0 or
	// tcp://HOST:PORT (swtpm).
	TPMDevice string
	// TPMPCRs are the SHA-256 PCRs new items are bound to (tpm backend).
	TPMPCRs []int
	// KEKFile is the key-encryption key file (sealed-file backend).
	KEKFile string
}

// Backend kinds, as in Config.Backend.
const (
	BackendTPM        = "tpm"
	BackendSealedFile = "sealed-file"
)

// KeysDir is the key store's directory inside the state directory.
const KeysDir = "keys"

// OpenBackend opens the backend that c selects.
func OpenBackend(c Config) (Backend, error) {
	switch c.Backend {
	case BackendTPM:
		return NewTPMBackend(TPMConfig{Device: c.TPMDevice, PCRs: c.TPMPCRs})
	case BackendSealedFile:
		return NewFileBackend(c.KEKFile)
	}
	return nil, fmt.Errorf("key store backend %q: must be %q or %q", c.Backend, BackendTPM, BackendSealedFile)
}

// OpenFromConfig opens the key store of the state directory stateDir
// (its items live in stateDir/keys, created with mode 0700 if missing)
// with the backend that c selects. stateDir must exist.
func OpenFromConfig(stateDir string, c Config) (*Store, error) {
	fi, err := os.Stat(stateDir)
	if err != nil {
		return nil, fmt.Errorf("open key store: state directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open key store: state directory %s is not a directory", stateDir)
	}
	b, err := OpenBackend(c)
	if err != nil {
		return nil, fmt.Errorf("open key store: %w", err)
	}
	s, err := Open(filepath.Join(stateDir, KeysDir), b)
	if err != nil {
		b.Close()
		return nil, err
	}
	return s, nil
}
