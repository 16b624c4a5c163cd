package forward

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/medguard/medguard/internal/state"
)

// CursorBucket is the state-store bucket holding one cursor per
// destination, keyed by the destination's name.
const CursorBucket = "forward-cursors"

// StateCursor keeps a destination's cursor in the device's state store.
type StateCursor struct {
	DB   state.Store
	Name string
}

// Load implements Cursor.
func (c StateCursor) Load() (uint64, error) {
	var next uint64
	err := c.DB.View(func(tx state.Tx) error {
		v, err := tx.Get(CursorBucket, c.Name)
		if errors.Is(err, state.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(v) != 8 {
			return fmt.Errorf("%d bytes, want 8", len(v))
		}
		next = binary.BigEndian.Uint64(v)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("load forward cursor %q: %w", c.Name, err)
	}
	return next, nil
}

// Store implements Cursor.
func (c StateCursor) Store(next uint64) error {
	err := c.DB.Update(func(tx state.Tx) error {
		return tx.Put(CursorBucket, c.Name, binary.BigEndian.AppendUint64(nil, next))
	})
	if err != nil {
		return fmt.Errorf("store forward cursor %q: %w", c.Name, err)
	}
	return nil
}
