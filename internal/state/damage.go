package state

import (
	"fmt"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

// bbolt reads its file through a memory map and trusts what it finds: a
// damaged page (one changed byte in a page header or a child pointer) makes
// it fault on an address outside the map or panic, which kills the daemon
// with a stack trace instead of the one clear message a damaged file must
// get. So the file is walked once at open with faults turned into panics
// (debug.SetPanicOnFault, made for memory-mapped files) and every panic
// turned into an error; after that, View and Update turn faults (not other
// panics, which are bugs of the caller) into errors.

// faulted is the runtime's error for a fault under SetPanicOnFault.
type faulted interface{ Addr() uintptr }

// checkFile opens nothing and writes nothing: it reads every bucket, key
// and value of db, reporting a damaged file as an error.
func checkFile(db *bolt.DB) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the file is damaged (%v); restore it from the device's backup", r)
		}
	}()
	return db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walkBucket(b) })
	})
}

func walkBucket(b *bolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if nb := b.Bucket(k); nb != nil {
				return walkBucket(nb)
			}
		}
		return nil
	})
}

// openFile is bolt.Open with the same protection: it reads the meta pages
// and the freelist.
func openFile(path string, opts *bolt.Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("the file is damaged (%v); restore it from the device's backup", r)
		}
	}()
	return bolt.Open(path, 0o600, opts)
}

// guardFaults runs fn, turning a memory fault inside it (damage that
// happened after open) into an error.
func guardFaults(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(faulted); !ok {
				panic(r)
			}
			err = fmt.Errorf("state database %s is damaged (%v); restore it from the device's backup", path, r)
		}
	}()
	return fn()
}
