package keystore

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// FileBackend seals items with AES-256-GCM under a key derived (HKDF-SHA256)
// from a key-encryption key (KEK) read from a file: a file on a partition
// only root can read, or a file through which the platform exposes a
// hardware-unique secret. See docs/keys.md for what this protects against.
//
// It is safe for concurrent use. Close zeroes the derived key.
type FileBackend struct {
	path string

	mu    sync.RWMutex // guards key against Close during Seal/Unseal
	key   *Secret      // AES-256 key derived from the KEK; nil after Close
	kekID [fileKEKIDSize]byte
}

// Limits on the key-encryption key file.
const (
	MinKEKSize = 32   // bytes; 256 bits of key
	maxKEKSize = 4096 // a KEK is a key, not a document
)

// ErrKEKFile is wrapped by every error about an unusable key-encryption
// key file: missing, too short, or readable by others.
var ErrKEKFile = errors.New("unusable key-encryption key file")

// NewFileBackend reads the key-encryption key from kekPath and returns a
// backend that seals under it. The file must be a regular file of at least
// MinKEKSize bytes whose permissions give group and others nothing (mode
// 0600 or 0400); anything else is refused, naming the file and the reason
// (IEC 62443-4-2 CR 1.9: strength of the protection of secret keys).
func NewFileBackend(kekPath string) (*FileBackend, error) {
	kek, err := readKEKFile(kekPath)
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	key, err := hkdf.Key(sha256.New, kek, nil, "medguard keystore sealed-file v1 aes-256-gcm", 32)
	if err != nil {
		return nil, fmt.Errorf("derive key from %s: %w", kekPath, err)
	}
	id, err := hkdf.Key(sha256.New, kek, nil, "medguard keystore sealed-file v1 kek-id", fileKEKIDSize)
	if err != nil {
		return nil, fmt.Errorf("derive key id from %s: %w", kekPath, err)
	}
	return &FileBackend{path: kekPath, key: NewSecret(key), kekID: [fileKEKIDSize]byte(id)}, nil
}

func readKEKFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key %s: %w: %w", path, ErrKEKFile, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key-encryption key %s: %w: %w", path, ErrKEKFile, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("key-encryption key %s: %w: not a regular file (%s)", path, ErrKEKFile, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("key-encryption key %s: %w: mode %04o gives group or others access; it must be 0600 or 0400 (chmod 600 %s)", path, ErrKEKFile, perm, path)
	}
	kek, err := io.ReadAll(io.LimitReader(f, maxKEKSize+1))
	if err != nil {
		clear(kek)
		return nil, fmt.Errorf("key-encryption key %s: %w: %w", path, ErrKEKFile, err)
	}
	if len(kek) < MinKEKSize || len(kek) > maxKEKSize {
		clear(kek)
		return nil, fmt.Errorf("key-encryption key %s: %w: %d bytes, want %d to %d random bytes", path, ErrKEKFile, len(kek), MinKEKSize, maxKEKSize)
	}
	if allSame(kek) {
		clear(kek)
		return nil, fmt.Errorf("key-encryption key %s: %w: every byte is the same, not a random key", path, ErrKEKFile)
	}
	return kek, nil
}

func allSame(b []byte) bool {
	for _, c := range b[1:] {
		if c != b[0] {
			return false
		}
	}
	return true
}

// CreateKEKFile writes a new key-encryption key of 32 random bytes to path,
// mode 0600, creating its directory (mode 0700) if needed. It never
// replaces an existing file: the new file appears complete or not at all.
// It is meant for the demo and for the first start of a device whose KEK
// lives on a protected partition.
func CreateKEKFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create key-encryption key %s: %w", path, err)
	}
	kek := make([]byte, MinKEKSize)
	defer clear(kek)
	if _, err := rand.Read(kek); err != nil {
		return fmt.Errorf("create key-encryption key %s: %w", path, err)
	}
	if err := writeFileExclusive(path, kek, 0o600); err != nil {
		return fmt.Errorf("create key-encryption key %s: %w", path, err)
	}
	return nil
}

// EnsureKEKFile creates the key-encryption key file at path if it does not
// exist yet, then opens a FileBackend on it.
func EnsureKEKFile(path string) (*FileBackend, error) {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		if err := CreateKEKFile(path); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, err
		}
	}
	return NewFileBackend(path)
}

// Kind implements Backend.
func (b *FileBackend) Kind() string { return "sealed-file" }

// Seal implements Backend.
func (b *FileBackend) Seal(name string, pt []byte) ([]byte, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.key == nil {
		return nil, errors.New("sealed-file backend is closed")
	}
	return sealFileBlob(b.key.Bytes(), b.kekID, name, pt)
}

// Unseal implements Backend. Its errors wrap ErrUnseal and say whether the
// blob is foreign (another KEK or backend), truncated, or damaged.
func (b *FileBackend) Unseal(name string, blob []byte) ([]byte, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.key == nil {
		return nil, errors.New("sealed-file backend is closed")
	}
	return openFileBlob(b.key.Bytes(), b.kekID, name, blob)
}

// Close zeroes the derived key. It is idempotent.
func (b *FileBackend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.key.Zero()
	b.key = nil
	return nil
}

// writeFileExclusive writes data to a temporary file beside path, syncs it,
// and links it to path, failing with an error wrapping os.ErrExist if path
// exists. A crash leaves no partial file at path.
func writeFileExclusive(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := writeSyncClose(f, data, mode); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func writeSyncClose(f *os.File, data []byte, mode os.FileMode) error {
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
