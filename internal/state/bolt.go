package state

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/medguard/medguard/internal/keystore"
)

// Bolt is a Store in a bbolt database file.
type Bolt struct {
	db *bolt.DB
	s  *sealer
}

// OpenBolt opens (creating, mode 0600) the database at path and migrates it
// to the current schema. dataKey (32 bytes) encrypts secret values; the
// Store keeps its own copy.
func OpenBolt(path string, dataKey *keystore.Secret) (*Bolt, error) {
	s, err := newSealer(dataKey)
	if err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	b := &Bolt{db: db, s: s}
	if err := migrate(b); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	return b, nil
}

// View implements Store.
func (b *Bolt) View(fn func(Tx) error) error {
	return b.db.View(func(tx *bolt.Tx) error { return fn(secretTx{boltTx{tx}, b.s}) })
}

// Update implements Store.
func (b *Bolt) Update(fn func(Tx) error) error {
	return b.db.Update(func(tx *bolt.Tx) error { return fn(secretTx{boltTx{tx}, b.s}) })
}

// SchemaVersion implements Store.
func (b *Bolt) SchemaVersion() (v int, err error) {
	err = b.View(func(tx Tx) error { v, err = readSchema(tx); return err })
	return v, err
}

// Close implements Store.
func (b *Bolt) Close() error {
	err := b.db.Close()
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return nil
	}
	return err
}

type boltTx struct{ tx *bolt.Tx }

func (t boltTx) Get(bucket, key string) ([]byte, error) {
	if err := checkBucket(bucket); err != nil {
		return nil, err
	}
	bk := t.tx.Bucket([]byte(bucket))
	if bk == nil {
		return nil, ErrNotFound
	}
	v := bk.Get([]byte(key))
	if v == nil {
		return nil, ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

func (t boltTx) Put(bucket, key string, value []byte) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("put %s: empty key", bucket)
	}
	bk, err := t.tx.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return err
	}
	return bk.Put([]byte(key), value)
}

func (t boltTx) Delete(bucket, key string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	bk := t.tx.Bucket([]byte(bucket))
	if bk == nil {
		return nil
	}
	return bk.Delete([]byte(key))
}

func (t boltTx) ForEach(bucket string, fn func(string, []byte) error) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	bk := t.tx.Bucket([]byte(bucket))
	if bk == nil {
		return nil
	}
	return bk.ForEach(func(k, v []byte) error { return fn(string(k), v) })
}
