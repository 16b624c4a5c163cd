package eventlog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Segment files are named seg-FIRSTSEQ.log, FIRSTSEQ being the sequence
// number of the first record, in 20 digits, so that names sort in order.
const segPrefix, segSuffix = "seg-", ".log"

func segName(first uint64) string { return fmt.Sprintf("%s%020d%s", segPrefix, first, segSuffix) }

// segment is one segment file.
type segment struct {
	first uint64
	name  string
	size  int64
}

// listSegments returns the segment files of dir, oldest first.
func listSegments(dir string) ([]segment, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list event log segments in %s: %w", dir, err)
	}
	var segs []segment
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, segPrefix) || !strings.HasSuffix(n, segSuffix) {
			continue
		}
		first, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(n, segPrefix), segSuffix), 10, 64)
		if err != nil || n != segName(first) {
			return nil, fmt.Errorf("event log segment %s: unexpected file name", filepath.Join(dir, n))
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("event log segment %s: %w", filepath.Join(dir, n), err)
		}
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("event log segment %s: not a regular file", filepath.Join(dir, n))
		}
		segs = append(segs, segment{first: first, name: n, size: info.Size()})
	}
	slices.SortFunc(segs, func(a, b segment) int { return int64cmp(a.first, b.first) })
	return segs, nil
}

func int64cmp(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// lineReader reads newline-terminated lines of at most MaxLineBytes from
// a segment, reporting each line's offset, and a torn tail (bytes after the
// last newline) at the end.
type lineReader struct {
	r   *bufio.Reader
	off int64
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 256<<10)}
}

// errTorn is returned, with the torn bytes, for a final line without a
// newline.
var errTorn = errors.New("torn final record")

// errTooLong is returned for a line longer than MaxLineBytes (skipped).
var errTooLong = errors.New("line too long")

// next returns the next line without its newline, valid until the next
// call, and its offset. It returns io.EOF at a clean end, errTorn with the
// torn bytes for a tail without newline.
func (lr *lineReader) next() (line []byte, off int64, err error) {
	off = lr.off
	b, err := lr.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// Skip an over-long line but keep counting.
		n := int64(len(b))
		for err == bufio.ErrBufferFull {
			b, err = lr.r.ReadSlice('\n')
			n += int64(len(b))
		}
		lr.off += n
		if err == io.EOF {
			return nil, off, errTorn
		}
		if err != nil {
			return nil, off, err
		}
		return nil, off, errTooLong
	}
	lr.off += int64(len(b))
	if err == io.EOF {
		if len(b) == 0 {
			return nil, off, io.EOF
		}
		return b, off, errTorn
	}
	if err != nil {
		return nil, off, err
	}
	if len(b)-1 > MaxLineBytes {
		return nil, off, errTooLong
	}
	return b[:len(b)-1], off, nil
}

// syncDir makes a directory's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
