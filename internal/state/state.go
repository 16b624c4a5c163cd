// Package state is the device's embedded state database: users, sessions,
// settings and whatever else a part must keep across restarts.
//
// Data lives in named buckets of key-value pairs, read and written in
// transactions (View, Update). Values that are secrets go through
// Tx.PutSecret and Tx.GetSecret, which encrypt them with AES-256-GCM under
// the device's data-encryption key, binding each to its bucket and key so a
// ciphertext cannot be moved to another place. The database carries a schema
// version; Open applies the migrations that the stored version lacks, in
// one transaction each.
//
// Two implementations satisfy the Store interface: Bolt (bbolt, on disk,
// used by the daemon) and Memory (for unit tests). Both pass the same
// conformance test.
package state

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"

	"github.com/medguard/medguard/internal/keystore"
)

// ErrNotFound is returned by Get and GetSecret when the key does not exist.
var ErrNotFound = errors.New("state: not found")

// ErrDecrypt marks a secret value that does not decrypt: it was changed on
// disk, moved from another key, or the data key is wrong. It is a security
// failure.
var ErrDecrypt = errors.New("state: secret value does not decrypt")

// Store is a transactional key-value store.
type Store interface {
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Update runs fn in a read-write transaction; if fn returns an error,
	// nothing it wrote is kept.
	Update(fn func(Tx) error) error
	// SchemaVersion returns the schema version of the stored data.
	SchemaVersion() (int, error)
	// Close releases the store. It is safe to call more than once.
	Close() error
}

// Tx is a transaction. It must not be used after its function returns.
type Tx interface {
	// Get returns a copy of the value of key in bucket, or ErrNotFound.
	Get(bucket, key string) ([]byte, error)
	// Put sets the value of key in bucket, creating the bucket if needed.
	Put(bucket, key string, value []byte) error
	// Delete removes key from bucket. Deleting a missing key is no error.
	Delete(bucket, key string) error
	// ForEach calls fn for each key of bucket in byte order of the keys.
	// value is only valid during the call.
	ForEach(bucket string, fn func(key string, value []byte) error) error
	// PutSecret encrypts value with the data-encryption key and stores it.
	PutSecret(bucket, key string, value []byte) error
	// GetSecret returns the decrypted value, ErrNotFound, or an error
	// wrapping ErrDecrypt.
	GetSecret(bucket, key string) ([]byte, error)
}

// Well-known buckets.
const (
	BucketMeta     = "meta"
	BucketSettings = "settings"
	BucketUsers    = "users"
	BucketSessions = "sessions"
)

const schemaKey = "schema-version"

var bucketName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)

func checkBucket(b string) error {
	if !bucketName.MatchString(b) {
		return fmt.Errorf("bucket name %q: must match %s", b, bucketName)
	}
	return nil
}

// Migration brings the schema from version To-1 to version To.
type Migration struct {
	To          int
	Description string
	Apply       func(Tx) error
}

// Migrations are applied in order by Open. Append new ones at the end; never
// change a released one.
var Migrations = []Migration{
	{To: 1, Description: "initial schema", Apply: func(tx Tx) error { return nil }},
	{To: 2, Description: "data-key check value", Apply: func(tx Tx) error {
		return tx.PutSecret(BucketMeta, keyCheckKey, []byte(keyCheckValue))
	}},
}

// The key check is a known value sealed with the data key, so that a
// database opened with another data key (a key store and a database from
// different backups or devices) is refused at open instead of failing
// later, secret by secret.
const (
	keyCheckKey   = "data-key-check"
	keyCheckValue = "medguard state data key check v1"
)

// checkDataKey refuses a store whose secrets were sealed with another
// data key. A store before schema 2 has no check value yet.
func checkDataKey(s Store) error {
	return s.View(func(tx Tx) error {
		v, err := tx.GetSecret(BucketMeta, keyCheckKey)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || string(v) != keyCheckValue {
			return fmt.Errorf("its secret values were sealed with another data key (the key store and the database do not belong together; restore both from the same backup): %w", ErrDecrypt)
		}
		return nil
	})
}

// CurrentSchema is the schema version this build writes.
func CurrentSchema() int { return Migrations[len(Migrations)-1].To }

// migrate applies the migrations the store lacks. A store written by a
// newer build (a higher version), or whose secrets were sealed with another
// data key, is refused before anything is written.
func migrate(s Store) error {
	v, err := s.SchemaVersion()
	if err != nil {
		return err
	}
	if v > CurrentSchema() {
		return fmt.Errorf("state schema version %d is newer than this build's %d: refusing to open", v, CurrentSchema())
	}
	if err := checkDataKey(s); err != nil {
		return err
	}
	for _, m := range Migrations {
		if m.To <= v {
			continue
		}
		err := s.Update(func(tx Tx) error {
			if err := m.Apply(tx); err != nil {
				return err
			}
			return tx.Put(BucketMeta, schemaKey, []byte(fmt.Sprint(m.To)))
		})
		if err != nil {
			return fmt.Errorf("migrate state schema to version %d (%s): %w", m.To, m.Description, err)
		}
	}
	return nil
}

func readSchema(tx Tx) (int, error) {
	b, err := tx.Get(BucketMeta, schemaKey)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var v int
	if _, err := fmt.Sscan(string(b), &v); err != nil {
		return 0, fmt.Errorf("state schema version %q: %w", b, err)
	}
	return v, nil
}

// sealer encrypts secret values, binding each to its bucket and key.
type sealer struct{ aead cipher.AEAD }

func newSealer(dataKey *keystore.Secret) (*sealer, error) {
	if dataKey.Len() != 32 {
		return nil, fmt.Errorf("state data key: %d bytes, want 32", dataKey.Len())
	}
	blk, err := aes.NewCipher(dataKey.Bytes())
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func aad(bucket, key string) []byte { return []byte("medguard state v1\x00" + bucket + "\x00" + key) }

func (s *sealer) seal(bucket, key string, v []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(v)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return s.aead.Seal(nonce, nonce, v, aad(bucket, key))
}

func (s *sealer) open(bucket, key string, ct []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(ct) < n+s.aead.Overhead() {
		return nil, fmt.Errorf("%s/%s: %w", bucket, key, ErrDecrypt)
	}
	pt, err := s.aead.Open(nil, ct[:n], ct[n:], aad(bucket, key))
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", bucket, key, ErrDecrypt)
	}
	return pt, nil
}

// secretTx adds PutSecret and GetSecret to a plain transaction.
type secretTx struct {
	plainTx
	s *sealer
}

type plainTx interface {
	Get(bucket, key string) ([]byte, error)
	Put(bucket, key string, value []byte) error
	Delete(bucket, key string) error
	ForEach(bucket string, fn func(key string, value []byte) error) error
}

func (t secretTx) PutSecret(bucket, key string, v []byte) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	return t.Put(bucket, key, t.s.seal(bucket, key, v))
}

func (t secretTx) GetSecret(bucket, key string) ([]byte, error) {
	ct, err := t.Get(bucket, key)
	if err != nil {
		return nil, err
	}
	return t.s.open(bucket, key, ct)
}
