//go:build !race

// Under -race, the race detector's pointer checks (checkptr) stopped the
// process inside bbolt on one fuzzed file (an unsafe.Slice across two
// allocations), which no recover can catch; so this target is built
// without -race, as `make fuzz` runs it.

package state

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenBolt opens arbitrary bytes as the state database: each file is
// refused with an error, or opens and can be read; none kills the process.
func FuzzOpenBolt(f *testing.F) {
	key := newKey(f)
	src := filepath.Join(f.TempDir(), "seed.db")
	s, err := OpenBolt(src, key)
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Update(func(tx Tx) error {
		if err := tx.Put(BucketSettings, "floor", []byte("3")); err != nil {
			return err
		}
		return tx.PutSecret(BucketUsers, "alice", []byte("record"))
	}); err != nil {
		f.Fatal(err)
	}
	s.Close()
	seed, err := os.ReadFile(src)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:4096])
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.db")
		os.Remove(p)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := OpenBolt(p, key)
		if err != nil {
			return
		}
		defer s.Close()
		s.View(func(tx Tx) error {
			for _, b := range []string{BucketMeta, BucketSettings, BucketUsers, BucketSessions} {
				tx.ForEach(b, func(k string, v []byte) error { tx.GetSecret(b, k); return nil })
			}
			return nil
		})
	})
}
