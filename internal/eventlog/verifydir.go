package eventlog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// VerifyOptions says what a verification of a log directory holds.
type VerifyOptions struct {
	// RootKey is the log's root MAC key (from the exported verifier key,
	// or the key store while it still holds it): every MAC is checked.
	RootKey []byte
	// Without RootKey, EpochKey is the key of epoch Epoch (the device's
	// current key): records of that epoch and later ones are MAC-checked,
	// earlier ones only through the signed checkpoints.
	EpochKey []byte
	Epoch    uint64
	// DevicePublicKey checks the signed checkpoints.
	DevicePublicKey ed25519.PublicKey
	// Checkpoint is a signed checkpoint from outside the log (for example
	// from the SIEM): the log must contain all the records it covers,
	// unchanged. Optional.
	Checkpoint []byte
	// Head is the device's state (on-device verification): the log must
	// reach its record, unchanged. Optional.
	Head *State
	// Workers is the number of goroutines checking MACs. Default: GOMAXPROCS.
	Workers int
	// Progress, if set, is called now and then with the bytes read so far
	// and the total.
	Progress func(done, total int64)
}

// chunkBytes is what the reader hands to a worker at a time: it bounds
// the verifier's memory to a few chunks per worker, whatever the log's size.
const chunkBytes = 1 << 20

// vbatch is a chunk of lines on its way through the workers.
type vbatch struct {
	items []item
	bytes int64
	done  chan struct{}
}

// VerifyDir verifies the log in dir. Damage goes into the report (see
// Report.Err); the error is for what stops the verification (I/O, a bad
// option).
func VerifyDir(ctx context.Context, dir string, o VerifyOptions) (Report, error) {
	segs, err := listSegments(dir)
	if err != nil {
		return Report{}, err
	}
	c := classifier{pub: o.DevicePublicKey, strictHead: true}
	var ev evidence
	if o.Checkpoint != nil {
		if o.DevicePublicKey == nil {
			return Report{}, errors.New("verify event log: a checkpoint needs the device's public key")
		}
		cp, err := ParseCheckpoint(o.Checkpoint, o.DevicePublicKey)
		switch {
		case errors.Is(err, ErrForgedCheckpoint):
			c.rep.Damage = append(c.rep.Damage, Damage{Kind: KindForgedCheckpoint, Seq: claimedSize(o.Checkpoint), Detail: "the given checkpoint: " + err.Error()})
		case err != nil:
			return Report{}, fmt.Errorf("verify event log: %w", err)
		default:
			ev.cp = &cp
			c.want = cp.Size
		}
	}
	if o.Head != nil {
		ev.head = o.Head
		c.headSeq = o.Head.Seq
	}
	ring := newKeyring(o.RootKey, 0)
	if o.RootKey == nil {
		ring = newKeyring(o.EpochKey, o.Epoch)
	}
	defer ring.zero()
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var total int64
	for _, s := range segs {
		total += s.size
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *vbatch, workers)
	order := make(chan *vbatch, 2*workers)
	for range workers {
		go func() {
			for b := range work {
				sc := newScratch()
				for i := range b.items {
					b.items[i].evaluate(ring, sc)
				}
				close(b.done)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(order)
		defer close(work)
		readErr <- readSegments(ctx, dir, segs, work, order)
	}()
	var done int64
	for b := range order {
		<-b.done
		for i := range b.items {
			c.push(&b.items[i])
		}
		done += b.bytes
		if o.Progress != nil {
			o.Progress(done, total)
		}
	}
	if err := <-readErr; err != nil {
		return Report{}, err
	}
	if !c.started && c.want != 0 {
		c.rep.LastSeq = 0
	}
	return c.finish(ev), nil
}

// claimedSize reads the size line of an unverified checkpoint, for the
// report.
func claimedSize(note []byte) uint64 {
	lines := bytes.SplitN(note, []byte("\n"), 3)
	if len(lines) < 2 {
		return 0
	}
	v, _, _ := parseUint(lines[1])
	return v
}

// readSegments splits the segments into chunks of lines and hands them to
// the workers, in order.
func readSegments(ctx context.Context, dir string, segs []segment, work, order chan<- *vbatch) error {
	for i, s := range segs {
		if err := readSegment(ctx, dir, s, i == len(segs)-1, work, order); err != nil {
			return err
		}
	}
	return nil
}

func readSegment(ctx context.Context, dir string, s segment, last bool, work, order chan<- *vbatch) error {
	f, err := os.Open(filepath.Join(dir, s.name))
	if err != nil {
		return fmt.Errorf("verify event log: %w", err)
	}
	defer f.Close()
	var carry []byte
	var off int64 // file offset of carry[0]
	skipping := false
	for eof := false; !eof; {
		buf := make([]byte, len(carry), len(carry)+chunkBytes)
		copy(buf, carry)
		n, err := io.ReadFull(f, buf[len(carry):cap(buf)])
		buf = buf[:len(carry)+n]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			eof = true
		} else if err != nil {
			return fmt.Errorf("verify event log segment %s: %w", s.name, err)
		}
		b := &vbatch{bytes: int64(n), done: make(chan struct{}), items: make([]item, 0, len(buf)/256+1)}
		rest := buf
		for {
			j := bytes.IndexByte(rest, '\n')
			if j < 0 {
				break
			}
			if skipping {
				skipping = false
			} else {
				b.items = append(b.items, item{line: rest[:j], seg: s.name, off: off})
			}
			off += int64(j + 1)
			rest = rest[j+1:]
		}
		carry = rest
		if len(carry) > MaxLineBytes && !skipping {
			// An over-long line: keep a prefix as a (bad) record, skip the rest.
			b.items = append(b.items, item{line: carry[:MaxLineBytes+1], seg: s.name, off: off})
			off += int64(len(carry))
			carry, skipping = nil, true
		} else if skipping {
			off += int64(len(carry))
			carry = nil
		}
		if eof && len(carry) > 0 {
			b.items = append(b.items, item{line: carry, torn: true, tornLast: last, seg: s.name, off: off})
		}
		select {
		case work <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case order <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
