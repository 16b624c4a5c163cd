package integrity

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/medguard/medguard/internal/eventlog"
)

// coalesce is how long the watcher gathers events before checking the
// paths they name: a burst of writes to one file costs one check.
const coalesce = 20 * time.Millisecond

// Stats describe the continuous re-hash.
type Stats struct {
	// Passes is the number of complete passes over the root.
	Passes int `json:"passes"`
	// LastPass is how long the last complete pass took (wall time,
	// including the pauses that keep it within budget): a change the
	// watcher missed is found within about two passes.
	LastPass Duration `json:"last_pass"`
	// Busy is the time spent working (not pausing) since Run started.
	Busy Duration `json:"busy"`
	// Bytes hashed since Run started.
	Bytes int64 `json:"bytes"`
}

// Run watches the software root until ctx is done or Close is called:
// inotify events are checked at once, and every file is re-hashed
// continuously within the CPU budget, so that a change made while the
// watcher was blind (overflow, a file system it cannot see) is still found
// within a bounded time. Findings are reported with their detection time.
//
// If VerifyBoot did not accept a manifest there is nothing to compare
// with: Run then only waits (the device is already not suitable).
//
// IEC 62443-4-2 CR 3.4 RE: integrity is checked during normal operation.
func (c *Checker) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	v := c.Verified()
	if v == nil {
		c.log.Warn("integrity monitor idle: no verified manifest")
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.watch(ctx, v.Manifest) }()
	go func() { defer wg.Done(); c.rehashLoop(ctx, v.Manifest) }()
	wg.Wait()
	return nil
}

// Stats returns the figures of the continuous re-hash.
func (c *Checker) Stats() Stats {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	return c.stats
}

// watch reacts to inotify events. If the watcher cannot start, it says so
// and leaves detection to the re-hash.
func (c *Checker) watch(ctx context.Context, m *Manifest) {
	w, err := fsnotify.NewBufferedWatcher(4096)
	if err == nil {
		err = addTree(w, c.cfg.Root)
	}
	if err != nil {
		c.record(ctx, eventlog.Event{Code: "integrity.monitor.degraded", Severity: eventlog.SeverityWarning,
			Message: "file change notification unavailable; relying on the continuous re-hash",
			Cause:   "inotify: " + err.Error(), Action: "Check the kernel's inotify limits (fs.inotify.max_user_watches)."})
		if w != nil {
			w.Close()
		}
		return
	}
	defer w.Close()
	pending := map[string]time.Time{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
					_ = addTree(w, ev.Name) // a new directory: watch it and everything in it
					c.queueTree(ev.Name, pending)
				}
			}
			if _, seen := pending[ev.Name]; !seen {
				pending[ev.Name] = c.cfg.Now()
			}
			timer.Reset(coalesce)
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				c.record(ctx, eventlog.Event{Code: "integrity.monitor.overflow", Severity: eventlog.SeverityWarning,
					Message: "file change notifications were lost; the continuous re-hash will find any change",
					Cause:   "inotify queue overflow (many changes at once)", Action: "Look for mass changes in the software root."})
			}
		case <-timer.C:
			c.checkPaths(ctx, m, pending)
			clear(pending)
		}
	}
}

func addTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return w.Add(p)
		}
		return nil
	})
}

// queueTree adds every file under dir to pending (files created before the
// watch on a new directory was in place).
func (c *Checker) queueTree(dir string, pending map[string]time.Time) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			pending[p] = c.cfg.Now()
		}
		return nil
	})
}

// checkPaths checks the listed entries at or below each pending path, and
// classifies an unlisted path.
func (c *Checker) checkPaths(ctx context.Context, m *Manifest, pending map[string]time.Time) {
	dir, err := openRoot(c.cfg.Root)
	if err != nil {
		c.rootGone(ctx, err)
		return
	}
	defer dir.Close()
	ck := checker{dir: dir, buf: make([]byte, hashBufSize), now: c.cfg.Now, via: "inotify"}
	var out []Finding
	for p := range pending {
		rel, err := filepath.Rel(c.cfg.Root, p)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			continue
		}
		rel = filepath.ToSlash(rel)
		for _, e := range entriesAt(m, rel) {
			fs, _ := ck.check(e)
			out = append(out, fs...)
		}
		if _, listed := m.Lookup(rel); !listed {
			if fi, err := os.Lstat(p); err == nil && !fi.IsDir() {
				if f, bad := classifyUnlisted(dir, rel, fs.FileInfoToDirEntry(fi), c.cfg.Now, "inotify"); bad {
					out = append(out, f)
				}
			}
		}
	}
	c.reportFindings(ctx, out)
}

// entriesAt returns the entries whose path is rel or lies below rel.
func entriesAt(m *Manifest, rel string) []Entry {
	i := sort.Search(len(m.Files), func(i int) bool { return m.Files[i].Path >= rel })
	var out []Entry
	for ; i < len(m.Files); i++ {
		p := m.Files[i].Path
		if p != rel && !strings.HasPrefix(p, rel+"/") {
			break
		}
		out = append(out, m.Files[i])
	}
	return out
}
