package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withMigrations replaces the migration list for one test.
func withMigrations(t *testing.T, ms []Migration) {
	t.Helper()
	old := Migrations
	Migrations = ms
	t.Cleanup(func() { Migrations = old })
}

// TestMigrationsAreConsecutive: versions go 1, 2, 3, … so that every
// stored version has exactly one way forward.
func TestMigrationsAreConsecutive(t *testing.T) {
	for i, m := range Migrations {
		if m.To != i+1 || m.Description == "" || m.Apply == nil {
			t.Errorf("migration %d: To %d, description %q; want To %d, a description and Apply", i, m.To, m.Description, i+1)
		}
	}
}

// TestMigrationUpgradesOnce: a database written by this build is brought
// to the next schema by a later build, whose migration runs once, not
// again on the next open; the data written before survives.
func TestMigrationUpgradesOnce(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.db")
	key := newKey(t)
	s, err := OpenBolt(p, key)
	if err != nil {
		t.Fatal(err)
	}
	s.Update(func(tx Tx) error { return tx.Put(BucketSettings, "kept", []byte("yes")) })
	s.Close()

	runs, next := 0, CurrentSchema()+1
	withMigrations(t, append(append([]Migration(nil), Migrations...), Migration{To: next, Description: "test: add a setting", Apply: func(tx Tx) error {
		runs++
		return tx.Put(BucketSettings, "added", []byte("by migration 2"))
	}}))
	for range 2 {
		s, err := OpenBolt(p, key)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := s.SchemaVersion(); v != next {
			t.Errorf("schema %d after migration, want %d", v, next)
		}
		s.View(func(tx Tx) error {
			for _, k := range []string{"kept", "added"} {
				if _, err := tx.Get(BucketSettings, k); err != nil {
					t.Errorf("setting %s after migration: %v", k, err)
				}
			}
			return nil
		})
		s.Close()
	}
	if runs != 1 {
		t.Fatalf("migration ran %d times, want once", runs)
	}
}

// TestFailedMigrationChangesNothing: a migration that fails half-way
// leaves the database at its old version without any of its writes, and
// the open fails naming the file and the migration.
func TestFailedMigrationChangesNothing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.db")
	key := newKey(t)
	s, err := OpenBolt(p, key)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	boom, cur := errors.New("boom"), CurrentSchema()
	released := Migrations
	withMigrations(t, append(append([]Migration(nil), Migrations...), Migration{To: cur + 1, Description: "test: fails", Apply: func(tx Tx) error {
		if err := tx.Put(BucketSettings, "half", []byte("written")); err != nil {
			return err
		}
		return boom
	}}))
	_, err = OpenBolt(p, key)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), fmt.Sprintf("version %d (test: fails)", cur+1)) {
		t.Fatalf("err = %v, want boom naming %s and the migration", err, p)
	}
	withMigrations(t, released)
	s, err = OpenBolt(p, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(); v != cur {
		t.Errorf("schema %d after a failed migration, want %d", v, cur)
	}
	s.View(func(tx Tx) error {
		if _, err := tx.Get(BucketSettings, "half"); !errors.Is(err, ErrNotFound) {
			t.Errorf("a failed migration's write survived: %v", err)
		}
		return nil
	})
}

// TestBoltRefusesOtherDataKey: a database opened with another data key (a
// key store and a database that do not belong together) is refused at
// open, naming the file, and is not changed.
func TestBoltRefusesOtherDataKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenBolt(p, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, _ := os.ReadFile(p)
	_, err = OpenBolt(p, newKey(t))
	if !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "another data key") {
		t.Fatalf("err = %v, want ErrDecrypt naming %s and the other data key", err, p)
	}
	if after, _ := os.ReadFile(p); !bytes.Equal(after, before) {
		t.Fatal("a refused open changed the database")
	}
}
