package integrity

import (
	"context"
	"encoding/hex"
	"errors"
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

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Workers hash files in parallel; 0 means one per CPU.
	Workers int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SkipUnlisted skips the walk for unlisted files (the monitor does it
	// separately).
	SkipUnlisted bool
	// Progress, if set, is told the bytes hashed so far and the bytes
	// listed, after each file. It is called from the hashing goroutines
	// and must be safe for concurrent use.
	Progress func(done, total int64)
}

const hashBufSize = 1 << 20

// Verify checks every file the manifest lists against the software root,
// in parallel, and walks the root for files it does not list. Problems are
// findings in the report; the error is reserved for not being able to
// check at all (the root cannot be opened, ctx is cancelled).
//
// IEC 62443-4-2 CR 3.4 and CR 3.14: the software's integrity is checked
// before it is used.
func Verify(ctx context.Context, root string, m *Manifest, opt VerifyOptions) (Report, error) {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	rep := Report{Product: m.Product, Version: m.Version, SecurityVersion: m.SecurityVersion, Started: now()}
	root, err := resolveRoot(root)
	if err != nil {
		return rep, err
	}
	dir, err := openRoot(root)
	if err != nil {
		return rep, err
	}
	defer dir.Close()
	findings, bytes, err := checkAll(ctx, dir, m.Files, opt.Workers, now, opt.Progress)
	if err != nil {
		return rep, err
	}
	if !opt.SkipUnlisted {
		un, err := findUnlisted(ctx, root, dir, m, now, "boot")
		if err != nil {
			return rep, err
		}
		findings = append(findings, un...)
	}
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].Path < findings[j].Path })
	rep.Files, rep.Bytes, rep.Findings = len(m.Files), bytes, findings
	rep.Duration = Duration(now().Sub(rep.Started))
	return rep, nil
}

// checkAll checks entries with workers goroutines, largest files first so
// that one big file does not finish last alone.
func checkAll(ctx context.Context, dir *os.File, entries []Entry, workers int, now func() time.Time, progress func(done, total int64)) ([]Finding, int64, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var listed int64 // bytes to hash (a symlink's target is not hashed)
	for _, e := range entries {
		if e.Kind != KindSymlink {
			listed += e.Size
		}
	}
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return entries[order[a]].Size > entries[order[b]].Size })
	var (
		next  atomic.Int64
		total atomic.Int64
		mu    sync.Mutex // guards out
		out   []Finding
		wg    sync.WaitGroup
	)
	for range min(workers, max(len(entries), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := checker{dir: dir, buf: make([]byte, hashBufSize), now: now, via: "boot"}
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(order) {
					return
				}
				fs, n := c.check(entries[order[i]])
				done := total.Add(n)
				if progress != nil {
					progress(done, listed)
				}
				if len(fs) > 0 {
					mu.Lock()
					out = append(out, fs...)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("verify software root: %w", err)
	}
	return out, total.Load(), nil
}

// checker checks single entries; it is not safe for concurrent use (buf).
type checker struct {
	dir  *os.File
	buf  []byte
	now  func() time.Time
	via  string
	pace func(n int) // called after each hashed chunk; may sleep
}

func (c *checker) finding(k FindingKind, e Entry, detail string) Finding {
	return Finding{Kind: k, Path: e.Path, FileKind: e.Kind, Detail: detail, Detected: c.now().UTC(), Via: c.via}
}

// check compares one listed entry with the file system and returns its
// findings and the bytes hashed. Any error is a finding: what cannot be
// checked is not trusted.
func (c *checker) check(e Entry) ([]Finding, int64) {
	if e.Kind == KindSymlink {
		return c.checkLink(e), 0
	}
	f, err := openBeneath(c.dir, e.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return []Finding{c.finding(FindingMissing, e, "listed in the manifest but not present")}, 0
	case errors.Is(err, errEscape):
		return []Finding{c.finding(FindingEscape, e, err.Error())}, 0
	case err != nil:
		return []Finding{c.finding(FindingChanged, e, "cannot be opened: "+err.Error())}, 0
	}
	defer f.Close()
	st, err := fstat(f)
	if err != nil {
		return []Finding{c.finding(FindingChanged, e, err.Error())}, 0
	}
	out := c.checkMeta(e, st)
	if !st.regular() {
		return append(out, c.finding(FindingChanged, e, fmt.Sprintf("not a regular file (mode %o)", st.mode))), 0
	}
	if st.size != e.Size {
		return append(out, c.withCtime(c.finding(FindingChanged, e, fmt.Sprintf("size %d, want %d", st.size, e.Size)), st)), 0
	}
	sum, n, err := hashReader(f, c.buf, e.Size, c.pace)
	switch {
	case err != nil:
		out = append(out, c.finding(FindingChanged, e, "cannot be read: "+err.Error()))
	case n != e.Size:
		out = append(out, c.withCtime(c.finding(FindingChanged, e, fmt.Sprintf("read %d bytes, want %d (changed while reading)", n, e.Size)), st))
	case hex.EncodeToString(sum[:]) != e.SHA256:
		out = append(out, c.withCtime(c.finding(FindingChanged, e, fmt.Sprintf("sha256 %x, want %s", sum[:8], e.SHA256[:16])), st))
	}
	return out, n
}

func (c *checker) withCtime(f Finding, st fileStat) Finding {
	f.Changed = time.Unix(0, st.ctime).UTC()
	return f
}

// checkMeta compares mode, owner and link count.
func (c *checker) checkMeta(e Entry, st fileStat) []Finding {
	var out []Finding
	if st.regular() && st.nlink > 1 {
		// A hard link cannot be told from the original: the other name
		// may be outside the root, where anyone who can write it changes
		// this file without touching the root.
		out = append(out, c.finding(FindingHardlink, e, fmt.Sprintf("%d names for one inode", st.nlink)))
	}
	if added := st.perm() &^ e.Mode & 0o6000; added != 0 {
		out = append(out, c.withCtime(c.finding(FindingSetuid, e, fmt.Sprintf("mode %04o, want %04o", st.perm(), e.Mode)), st))
	} else if st.perm() != e.Mode {
		out = append(out, c.withCtime(c.finding(FindingMode, e, fmt.Sprintf("mode %04o, want %04o", st.perm(), e.Mode)), st))
	}
	if st.uid != e.UID || st.gid != e.GID {
		out = append(out, c.withCtime(c.finding(FindingOwner, e, fmt.Sprintf("owner %d:%d, want %d:%d", st.uid, st.gid, e.UID, e.GID)), st))
	}
	return out
}

func (c *checker) checkLink(e Entry) []Finding {
	t, err := readlinkBeneath(c.dir, e.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return []Finding{c.finding(FindingMissing, e, "listed symlink not present")}
	case errors.Is(err, errEscape):
		return []Finding{c.finding(FindingEscape, e, err.Error())}
	case err != nil:
		return []Finding{c.finding(FindingChanged, e, "not a symlink or unreadable: "+err.Error())}
	case t != e.Target:
		if !linkStaysInside(e.Path, t) {
			return []Finding{c.finding(FindingEscape, e, fmt.Sprintf("symlink to %q leaves the root", t))}
		}
		return []Finding{c.finding(FindingChanged, e, fmt.Sprintf("symlink to %q, want %q", t, e.Target))}
	}
	return nil
}

// findUnlisted walks the root for files the manifest does not list.
func findUnlisted(ctx context.Context, root string, dir *os.File, m *Manifest, now func() time.Time, via string) ([]Finding, error) {
	var out []Finding
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && p == root {
			return err
		}
		rel, rerr := filepath.Rel(root, p)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if err != nil {
			// A directory (or file) below the root that cannot be read
			// (e.g. mode 0700 of another user when the daemon is not
			// root) would hide whatever it holds: what cannot be checked
			// is not trusted. The walk goes on with the rest.
			out = append(out, unreadable(rel, err, now, via))
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if _, ok := m.Lookup(rel); ok {
			return nil
		}
		if f, bad := classifyUnlisted(dir, rel, d, now, via); bad {
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk software root %s: %w", root, err)
	}
	return out, nil
}

// classifyUnlisted turns an unlisted path into a finding.
func classifyUnlisted(dir *os.File, rel string, d fs.DirEntry, now func() time.Time, via string) (Finding, bool) {
	f := Finding{Kind: FindingUnlisted, Path: rel, Detected: now().UTC(), Via: via, Detail: "not in the signed manifest"}
	if d.Type()&fs.ModeSymlink != 0 {
		t, err := readlinkBeneath(dir, rel)
		if err == nil && !linkStaysInside(rel, t) {
			f.Kind, f.Detail = FindingEscape, fmt.Sprintf("unlisted symlink to %q leaves the root", t)
		}
		return f, true
	}
	if !d.Type().IsRegular() {
		// A socket, FIFO or device node cannot be run, and opening a
		// device can have side effects: report it without opening it.
		f.Detail = fmt.Sprintf("unlisted special file (%v)", d.Type())
		return f, true
	}
	fh, err := openBeneath(dir, rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return f, false // gone since the walk saw it
		}
		return unreadable(rel, err, now, via), true
	}
	defer fh.Close()
	st, err := fstat(fh)
	if err != nil || !st.regular() {
		f.Detail = "unlisted special file"
		return f, true
	}
	head := make([]byte, 4)
	n, _ := fh.Read(head)
	f.Changed = time.Unix(0, st.ctime).UTC()
	if looksExecutable(st.perm(), head[:n]) || st.perm()&0o6000 != 0 {
		f.Kind = FindingUnlistedExecutable
		f.Detail = fmt.Sprintf("unlisted executable (mode %04o)", st.perm())
	}
	return f, true
}

// unreadable is the finding for an unlisted path that cannot be read.
func unreadable(rel string, err error, now func() time.Time, via string) Finding {
	return Finding{Kind: FindingUnreadable, Path: rel, Detected: now().UTC(), Via: via,
		Detail: "not in the signed manifest and cannot be read: " + err.Error()}
}
