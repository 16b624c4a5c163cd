package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBoltDamagedPages: one changed byte anywhere in the pages of a state
// database either still reads (a changed value, which the data key's
// authentication catches for secrets) or is refused at open with an error
// naming the file. It never kills the process: bbolt faults on a damaged
// page pointer (SIGSEGV on its memory map) unless guarded.
func TestBoltDamagedPages(t *testing.T) {
	key := newKey(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "state.db")
	s, err := OpenBolt(src, key)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		s.Update(func(tx Tx) error { return tx.PutSecret(BucketUsers, fmt.Sprintf("user-%03d", i), make([]byte, 200)) })
	}
	s.Close()
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for off := 0; off < len(orig); off += 331 {
		b := append([]byte(nil), orig...)
		b[off] ^= 0xff
		p := filepath.Join(dir, fmt.Sprintf("damaged-%d.db", off))
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := OpenBolt(p, key)
		if err != nil {
			refused++
			if !strings.Contains(err.Error(), p) {
				t.Errorf("offset %d: error %q does not name the file", off, err)
			}
			continue
		}
		s.View(func(tx Tx) error {
			return tx.ForEach(BucketUsers, func(k string, v []byte) error { _, err := tx.GetSecret(BucketUsers, k); return err })
		})
		s.Close()
		os.Remove(p)
	}
	if refused == 0 {
		t.Fatal("no damaged file was refused: the test damages nothing that matters")
	}
}
