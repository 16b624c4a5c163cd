package eventlog

import (
	"fmt"
	"math"
)

// The functions below read a log directory without opening it for
// writing (medguard log show, export, checkpoint; a copy of a log taken
// off the device). They see what is on disk, including a record still
// being written by a running daemon once it is complete.

// ReadDir returns up to max records of the log in dir with Seq ≥ from.
func ReadDir(dir string, from uint64, max int) ([]Record, error) {
	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	out, _, err := readRange(dir, segs, from, math.MaxUint64, max, readPos{})
	return out, err
}

// QueryDir runs a Query over the log in dir.
func QueryDir(dir string, q Query) (Page, error) {
	segs, err := listSegments(dir)
	if err != nil {
		return Page{}, err
	}
	return queryDir(dir, segs, math.MaxUint64, q)
}

// NewestCheckpoint returns the signed note of the newest checkpoint record
// in dir (for an admin to keep as evidence of how far the log reached).
func NewestCheckpoint(dir string) ([]byte, error) {
	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	for i := len(segs) - 1; i >= 0; i-- {
		var note []byte
		_, err := forEachLine(dir, segs[i], func(line []byte, h *lineHead) (bool, error) {
			if h.checkpoint {
				if r, err := ParseRecord(line); err == nil {
					note = []byte(r.Fields[fieldNote])
				}
			}
			return false, nil
		})
		if err != nil {
			return nil, err
		}
		if note != nil {
			return note, nil
		}
	}
	return nil, fmt.Errorf("no checkpoint in the event log %s yet: the device signs one every log.checkpoint_entries records or log.checkpoint_interval, and at shutdown", dir)
}
