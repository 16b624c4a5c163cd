package keystore

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store keeps sealed items in one directory, one file per item
// (NAME.sealed). It is safe for concurrent use.
type Store struct {
	dir     string
	backend Backend

	mu sync.Mutex // serialises writes of item and certificate files

	now func() time.Time // the clock; nil: time.Now (tests set it)
}

// maxBlobFile bounds what is read from an item file.
const maxBlobFile = 64 << 10

var itemName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,63}$`)

// Open returns a Store over dir, creating dir with mode 0700 if it does not
// exist. The Store owns backend and closes it in Close.
func Open(dir string, backend Backend) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open key store %s: %w", dir, err)
	}
	return &Store{dir: dir, backend: backend}, nil
}

// Dir returns the directory holding the sealed items.
func (s *Store) Dir() string { return s.dir }

// Backend returns the kind of backend that seals the items ("tpm" or
// "sealed-file").
func (s *Store) Backend() string { return s.backend.Kind() }

// Close closes the backend.
func (s *Store) Close() error { return s.backend.Close() }

// Items returns the names of the items stored, sorted. It unseals nothing.
func (s *Store) Items() ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list key store %s: %w", s.dir, err)
	}
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".sealed"); ok && e.Type().IsRegular() && itemName.MatchString(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

func (s *Store) path(name string) (string, error) {
	if !itemName.MatchString(name) {
		return "", fmt.Errorf("key store item name %q: must match %s", name, itemName)
	}
	return filepath.Join(s.dir, name+".sealed"), nil
}

// Secret unseals the named item. It returns an error wrapping ErrNotFound if
// the item was never stored, and one wrapping ErrUnseal if its file is
// foreign, damaged or refused by the backend.
func (s *Store) Secret(name string) (*Secret, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	blob, err := readFileLimited(p, maxBlobFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read key %s: %w", p, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", p, err)
	}
	pt, err := s.backend.Unseal(name, blob)
	if err != nil {
		return nil, fmt.Errorf("unseal key %s: %w", p, err)
	}
	return NewSecret(pt), nil
}

// PutSecret seals v and stores it under name, replacing any earlier value
// atomically: a crash leaves either the old or the new item, never a mix.
func (s *Store) PutSecret(name string, v *Secret) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	blob, err := s.backend.Seal(name, v.Bytes())
	if err != nil {
		return fmt.Errorf("seal key %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := writeFileAtomic(p, blob, 0o600); err != nil {
		return fmt.Errorf("write key %s: %w", p, err)
	}
	return nil
}

// DeleteSecret removes the named item's file (the event log erases its
// root key this way once the verifier was exported). It returns an error
// wrapping ErrNotFound if there is no such item. The removal is durable
// (the directory is synced); the blob's bytes may survive on the storage
// medium, but without the TPM or KEK that sealed them they reveal nothing,
// and nothing can bring the item back once the TPM or KEK is gone.
func (s *Store) DeleteSecret(name string) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err = os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete key %s: %w", p, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete key %s: %w", p, err)
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("delete key %s: %w", p, err)
	}
	return nil
}

// EnsureSecret returns the named item, first generating it with size random
// bytes if it was never stored. A damaged item is an error, never silently
// replaced. Two callers racing to create an item (two goroutines, or the
// daemon and the CLI) both get the one that was stored first.
func (s *Store) EnsureSecret(name string, size int) (*Secret, error) {
	return s.ensure(name, func() ([]byte, error) {
		b := make([]byte, size)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		return b, nil
	})
}

// ensure returns the named item, creating it from gen if it was never
// stored. The item file is created exclusively: if another writer got
// there first, its value is returned and gen's is discarded.
func (s *Store) ensure(name string, gen func() ([]byte, error)) (*Secret, error) {
	v, err := s.Secret(name)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return v, err
	}
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	b, err := gen()
	if err != nil {
		return nil, fmt.Errorf("create key %s: %w", name, err)
	}
	v = NewSecret(b)
	blob, err := s.backend.Seal(name, v.Bytes())
	if err != nil {
		v.Zero()
		return nil, fmt.Errorf("seal key %s: %w", name, err)
	}
	err = writeFileExclusive(p, blob, 0o600)
	if errors.Is(err, fs.ErrExist) {
		v.Zero()
		return s.Secret(name)
	}
	if err != nil {
		v.Zero()
		return nil, fmt.Errorf("write key %s: %w", p, err)
	}
	return v, nil
}

// Identity returns the device's Ed25519 identity key, generating it on
// first use. The caller should Zero the returned Secret's copy when done;
// the private key is the Secret's bytes (an ed25519 seed of 32 bytes).
func (s *Store) Identity() (ed25519.PrivateKey, error) {
	seed, err := s.EnsureSecret(ItemIdentity, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	defer seed.Zero()
	if seed.Len() != ed25519.SeedSize {
		return nil, fmt.Errorf("key store item %s: %d bytes, want %d: %w", ItemIdentity, seed.Len(), ed25519.SeedSize, ErrUnseal)
	}
	return ed25519.NewKeyFromSeed(seed.Bytes()), nil
}

// IdentityPublic returns the device's Ed25519 identity public key without
// creating the identity: an error wrapping ErrNotFound if there is none.
func (s *Store) IdentityPublic() (ed25519.PublicKey, error) {
	seed, err := s.Secret(ItemIdentity)
	if err != nil {
		return nil, err
	}
	defer seed.Zero()
	if seed.Len() != ed25519.SeedSize {
		return nil, fmt.Errorf("key store item %s: %d bytes, want %d: %w", ItemIdentity, seed.Len(), ed25519.SeedSize, ErrUnseal)
	}
	priv := ed25519.NewKeyFromSeed(seed.Bytes())
	defer clear(priv)
	return append(ed25519.PublicKey(nil), priv.Public().(ed25519.PublicKey)...), nil
}

// writeFileAtomic writes data to a temporary file beside path, syncs it, and
// renames it over path, then syncs the directory.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := writeSyncClose(f, data, mode); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// readFileLimited reads path, refusing files larger than limit bytes.
func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}
