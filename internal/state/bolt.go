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
	db   *bolt.DB
	s    *sealer
	path string
}

// OpenBolt opens (creating, mode 0600) the database at path and migrates it
// to the current schema. dataKey (32 bytes) encrypts secret values; the
// Store keeps its own copy.
func OpenBolt(path string, dataKey *keystore.Secret) (*Bolt, error) {
	s, err := newSealer(dataKey)
	if err != nil {
		return nil, err
	}
	db, err := openFile(path, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	if err := checkFile(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	b := &Bolt{db: db, s: s, path: path}
	if err := migrate(b); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	return b, nil
}

// View implements Store.
func (b *Bolt) View(fn func(Tx) error) error {
	return guardFaults(b.path, func() error {
		return b.db.View(func(tx *bolt.Tx) error { return fn(secretTx{&boltTx{tx: tx}, b.s}) })
	})
}

// Update implements Store. A transaction that wrote nothing (a
// read-modify-write that decided not to write) is rolled back rather than
// committed, so that it leaves the file as it was: a bbolt commit writes a
// new meta page even when nothing changed, and a refused boot must change
// nothing on disk.
func (b *Bolt) Update(fn func(Tx) error) error {
	return guardFaults(b.path, func() error { return b.update(fn) })
}

func (b *Bolt) update(fn func(Tx) error) error {
	tx, err := b.db.Begin(true)
	if err != nil {
		return err
	}
	defer func() {
		if tx.DB() != nil { // fn panicked: neither committed nor rolled back
			tx.Rollback()
		}
	}()
	bt := &boltTx{tx: tx}
	if err := fn(secretTx{bt, b.s}); err != nil {
		tx.Rollback()
		return err
	}
	if !bt.wrote {
		return tx.Rollback()
	}
	return tx.Commit()
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

// boltTx is one bbolt transaction; wrote records whether it changed
// anything.
type boltTx struct {
	tx    *bolt.Tx
	wrote bool
}

func (t *boltTx) Get(bucket, key string) ([]byte, error) {
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

func (t *boltTx) Put(bucket, key string, value []byte) error {
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
	t.wrote = true
	return bk.Put([]byte(key), value)
}

func (t *boltTx) Delete(bucket, key string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	bk := t.tx.Bucket([]byte(bucket))
	if bk == nil {
		return nil
	}
	t.wrote = true
	return bk.Delete([]byte(key))
}

func (t *boltTx) ForEach(bucket string, fn func(string, []byte) error) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	bk := t.tx.Bucket([]byte(bucket))
	if bk == nil {
		return nil
	}
	return bk.ForEach(func(k, v []byte) error { return fn(string(k), v) })
}
