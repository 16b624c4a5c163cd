package state

import (
	"errors"
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

// TestMigrationUpgradesOnce: a database written by a build with schema 1
// is brought to schema 2 by a later build, whose migration runs once, not
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

	runs := 0
	withMigrations(t, append(append([]Migration(nil), Migrations...), Migration{To: 2, Description: "test: add a setting", Apply: func(tx Tx) error {
		runs++
		return tx.Put(BucketSettings, "added", []byte("by migration 2"))
	}}))
	for range 2 {
		s, err := OpenBolt(p, key)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := s.SchemaVersion(); v != 2 {
			t.Errorf("schema %d after migration, want 2", v)
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
	boom := errors.New("boom")
	withMigrations(t, append(append([]Migration(nil), Migrations...), Migration{To: 2, Description: "test: fails", Apply: func(tx Tx) error {
		if err := tx.Put(BucketSettings, "half", []byte("written")); err != nil {
			return err
		}
		return boom
	}}))
	_, err = OpenBolt(p, key)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "version 2 (test: fails)") {
		t.Fatalf("err = %v, want boom naming %s and the migration", err, p)
	}
	withMigrations(t, Migrations[:1])
	s, err = OpenBolt(p, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(); v != 1 {
		t.Errorf("schema %d after a failed migration, want 1", v)
	}
	s.View(func(tx Tx) error {
		if _, err := tx.Get(BucketSettings, "half"); !errors.Is(err, ErrNotFound) {
			t.Errorf("a failed migration's write survived: %v", err)
		}
		return nil
	})
}
