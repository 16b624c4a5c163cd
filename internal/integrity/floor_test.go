package integrity

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/state"
)

// TestStateFloorSurvivesRestart: the floor kept in the bbolt state store
// survives closing and reopening it (a daemon restart), never goes down,
// and a damaged value is a security failure, not 0.
func TestStateFloorSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	path := filepath.Join(t.TempDir(), "state.db")
	open := func() *state.Bolt {
		st, err := state.OpenBolt(path, keystore.NewSecret(append([]byte(nil), key...)))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	fl := StateFloor{Store: st}
	if v, err := fl.Get(ctx); err != nil || v != 0 {
		t.Fatalf("fresh floor = %d, %v", v, err)
	}
	fl.Raise(ctx, 7)
	fl.Raise(ctx, 3) // never lowers
	st.Close()

	st = open()
	defer st.Close()
	fl = StateFloor{Store: st}
	if v, err := fl.Get(ctx); err != nil || v != 7 {
		t.Fatalf("floor after restart = %d, %v; want 7", v, err)
	}
	st.Update(func(tx state.Tx) error { return tx.Put(state.BucketSettings, floorKey, []byte("garbage")) })
	if _, err := fl.Get(ctx); !IsSecurity(err) {
		t.Fatalf("damaged floor: %v, want a security error", err)
	}
}
