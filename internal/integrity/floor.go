package integrity

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/medguard/medguard/internal/state"
)

// Floor keeps the highest security version the device has accepted, across
// restarts, so that an older (validly signed, but vulnerable) release is
// refused: anti-rollback (IEC 62443-4-2 CR 3.4, FDA: "prevent rollback").
//
// Get returns the floor (0 if none was ever stored). Raise sets the floor
// to v if v is higher, atomically, and never lowers it.
type Floor interface {
	Get(ctx context.Context) (uint64, error)
	Raise(ctx context.Context, v uint64) error
}

// floorKey is the key of the floor in the state store's settings bucket.
const floorKey = "integrity.security-version-floor"

// StateFloor keeps the floor in the state store, bucket "settings".
type StateFloor struct{ Store state.Store }

// Get implements Floor.
func (s StateFloor) Get(_ context.Context) (uint64, error) {
	var v uint64
	err := s.Store.View(func(tx state.Tx) error {
		var err error
		v, err = readFloor(tx)
		return err
	})
	return v, err
}

// Raise implements Floor.
func (s StateFloor) Raise(_ context.Context, v uint64) error {
	return s.Store.Update(func(tx state.Tx) error {
		cur, err := readFloor(tx)
		if err != nil || v <= cur {
			return err
		}
		return tx.Put(state.BucketSettings, floorKey, []byte(strconv.FormatUint(v, 10)))
	})
}

func readFloor(tx state.Tx) (uint64, error) {
	b, err := tx.Get(state.BucketSettings, floorKey)
	if errors.Is(err, state.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read security-version floor: %w", err)
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		// A damaged floor must not read as 0 (that would allow rollback).
		return 0, &SecurityError{Reason: ReasonRollback, Msg: fmt.Sprintf("stored security-version floor %q is damaged", b), Err: err}
	}
	return v, nil
}

// MemoryFloor is a Floor in memory, for tests and for the offline verify
// command. The zero value is ready to use.
type MemoryFloor struct {
	mu sync.Mutex // guards v
	v  uint64
}

// Get implements Floor.
func (m *MemoryFloor) Get(context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.v, nil
}

// Raise implements Floor.
func (m *MemoryFloor) Raise(_ context.Context, v uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.v = max(m.v, v)
	return nil
}
