package integrity

import (
	"context"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// BuildOptions describe the release a manifest is built for.
type BuildOptions struct {
	Product         string
	Version         string
	SecurityVersion uint64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Workers hash in parallel; 0 means one per CPU.
	Workers int
	// Progress, if set, is told the bytes hashed so far and the bytes to
	// hash, after each file. It is called from the hashing goroutines and
	// must be safe for concurrent use.
	Progress func(done, total int64)
}

// Build walks the software root and returns the manifest of every file in
// it. It refuses a tree that a device could not verify: a symlink that
// leaves the root, a hard-linked file, a special file (FIFO, device,
// socket).
func Build(ctx context.Context, root string, o BuildOptions) (*Manifest, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	root, err := resolveRoot(root)
	if err != nil {
		return nil, err
	}
	dir, err := openRoot(root)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	var entries []Entry
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		e, err := describeEntry(dir, filepath.ToSlash(rel), d)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build manifest of %s: %w", root, err)
	}
	if err := hashEntries(ctx, dir, entries, o.Workers, o.Progress); err != nil {
		return nil, fmt.Errorf("build manifest of %s: %w", root, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	m := &Manifest{Schema: ManifestSchema, Product: o.Product, Version: o.Version,
		SecurityVersion: o.SecurityVersion, Created: now().UTC().Truncate(time.Second), Files: entries}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("build manifest of %s: %w", root, err)
	}
	return m, nil
}

// describeEntry records everything about rel but its hash.
func describeEntry(dir *os.File, rel string, d fs.DirEntry) (Entry, error) {
	if err := checkRelPath(rel); err != nil {
		return Entry{}, fmt.Errorf("%s: %w", rel, err)
	}
	if d.Type()&fs.ModeSymlink != 0 {
		t, err := readlinkBeneath(dir, rel)
		if err != nil {
			return Entry{}, err
		}
		if !linkStaysInside(rel, t) {
			return Entry{}, fmt.Errorf("%s: symlink to %q leaves the software root", rel, t)
		}
		return Entry{Path: rel, Kind: KindSymlink, Mode: 0o777, Target: t}, nil
	}
	f, err := openBeneath(dir, rel)
	if err != nil {
		return Entry{}, err
	}
	defer f.Close()
	st, err := fstat(f)
	if err != nil {
		return Entry{}, err
	}
	if !st.regular() {
		return Entry{}, fmt.Errorf("%s: not a regular file, directory or symlink (mode %o)", rel, st.mode)
	}
	if st.nlink > 1 {
		return Entry{}, fmt.Errorf("%s: hard-linked (%d names): a device would refuse it; copy the file instead", rel, st.nlink)
	}
	head := make([]byte, 4)
	n, _ := f.Read(head)
	return Entry{Path: rel, Kind: classify(rel, st.perm(), head[:n]), Size: st.size,
		Mode: st.perm(), UID: st.uid, GID: st.gid}, nil
}

// hashEntries fills in the SHA256 of every non-symlink entry, in parallel.
func hashEntries(ctx context.Context, dir *os.File, entries []Entry, workers int, progress func(done, total int64)) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var all int64
	for _, e := range entries {
		if e.Kind != KindSymlink {
			all += e.Size
		}
	}
	jobs := make(chan *Entry)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards first
		first error
		done  atomic.Int64
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, hashBufSize)
			for e := range jobs {
				if err := hashEntry(dir, e, buf); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
				if n := done.Add(e.Size); progress != nil {
					progress(n, all)
				}
			}
		}()
	}
	for i := range entries {
		if entries[i].Kind == KindSymlink {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		jobs <- &entries[i]
	}
	close(jobs)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

func hashEntry(dir *os.File, e *Entry, buf []byte) error {
	f, err := openBeneath(dir, e.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	sum, n, err := hashReader(f, buf, e.Size, nil)
	if err != nil {
		return fmt.Errorf("hash %s: %w", e.Path, err)
	}
	if n != e.Size {
		return fmt.Errorf("hash %s: changed while building (%d bytes, want %d)", e.Path, n, e.Size)
	}
	e.SHA256 = hex.EncodeToString(sum[:])
	return nil
}
