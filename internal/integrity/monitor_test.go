package integrity

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// waitEvent polls the recorder for an event with code and path.
func waitEvent(t *testing.T, f *fixture, code, path string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range f.rec.Events() {
			if e.Code == code && e.Fields["path"] == path {
				return e.Fields
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %s for %s; events %v", code, path, f.rec.Codes())
	return nil
}

// TestMonitorDetectsChangesWhileRunning: the attacks made while the device
// runs are found by the watcher (the re-hash is too slow here to find
// them first), each with its cause and detection time.
func TestMonitorDetectsChangesWhileRunning(t *testing.T) {
	f := newFixture(t)
	c := f.checker(t, 1)
	c.cfg.RehashBudget = 0.001 // the re-hash is slow here: inotify must find these
	if _, err := c.VerifyBoot(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	time.Sleep(100 * time.Millisecond) // let the watcher start

	flipByte(t, filepath.Join(f.root, "bin/app"), 64)
	fields := waitEvent(t, f, "integrity.file.changed", "bin/app")
	if fields["via"] != "inotify" || fields["detected"] == "" || fields["latency"] == "" {
		t.Fatalf("finding fields = %v", fields)
	}
	t.Logf("one byte changed: found by inotify %s after the inode changed", fields["latency"]) // a figure for BENCHMARKS.md, not asserted
	write(t, filepath.Join(f.root, "newdir/sub/tool"), "#!/bin/sh\n", 0o755)
	waitEvent(t, f, "integrity.file.unlisted-executable", "newdir/sub/tool")
	rm(t, filepath.Join(f.root, "share/doc/README.md"))
	waitEvent(t, f, "integrity.file.missing", "share/doc/README.md")
	chmod(t, filepath.Join(f.root, "bin/app"), 0o4755)
	waitEvent(t, f, "integrity.file.setuid", "bin/app")
	write(t, filepath.Join(f.root, "etc/.app.toml.new"), "rate = 9\n", 0o644)
	if err := os.Rename(filepath.Join(f.root, "etc/.app.toml.new"), filepath.Join(f.root, "etc/app.toml")); err != nil {
		t.Fatal(err)
	}
	if fields := waitEvent(t, f, "integrity.file.changed", "etc/app.toml"); fields["via"] != "inotify" {
		t.Fatalf("configuration replaced: found by %q, want inotify", fields["via"])
	}
	if len(f.dev.Codes()) == 0 {
		t.Fatal("device not told")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRehashFindsWhatTheWatcherMissed: a change made while no watcher ran
// is found by the re-hash.
func TestRehashFindsWhatTheWatcherMissed(t *testing.T) {
	f := newFixture(t)
	c := f.checker(t, 1)
	if _, err := c.VerifyBoot(context.Background()); err != nil {
		t.Fatal(err)
	}
	flipByte(t, filepath.Join(f.root, "lib/libdemo.so.1"), 3)
	if err := os.Chmod(filepath.Join(f.root, "etc/app.toml"), 0o666); err != nil {
		t.Fatal(err)
	}
	// A hard link made from outside the root: inotify on the root's
	// directories does not see it (the link count changes on the inode,
	// not in a watched directory); only the re-hash can.
	if err := os.Link(filepath.Join(f.root, "bin/app"), filepath.Join(filepath.Dir(f.root), "outside-link")); err != nil {
		t.Fatal(err)
	}
	th := &throttle{ctx: context.Background(), budget: 1, now: time.Now, mark: time.Now()}
	n, ok := c.rehashPass(context.Background(), c.Verified().Manifest, th)
	if !ok || n == 0 {
		t.Fatalf("rehashPass = %d, %v", n, ok)
	}
	fields := waitEvent(t, f, "integrity.file.changed", "lib/libdemo.so.1")
	if fields["via"] != "rehash" {
		t.Fatalf("via = %q", fields["via"])
	}
	waitEvent(t, f, "integrity.file.mode", "etc/app.toml")
	waitEvent(t, f, "integrity.file.hardlink", "bin/app")
	// Reported once: a second pass adds no events.
	before := len(f.rec.Events())
	c.rehashPass(context.Background(), c.Verified().Manifest, th)
	if after := len(f.rec.Events()); after != before {
		t.Fatalf("second pass recorded %d more events", after-before)
	}
}

func TestRunIdleWithoutVerifiedManifest(t *testing.T) {
	f := newFixture(t)
	c := f.checker(t, 1)
	done := make(chan error)
	go func() { done <- c.Run(context.Background()) }()
	c.Close()
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRootRemovedWhileRunningIsReportedOnce(t *testing.T) {
	f := newFixture(t)
	c := f.checker(t, 1)
	if _, err := c.VerifyBoot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(f.root, f.root+".gone"); err != nil {
		t.Fatal(err)
	}
	th := &throttle{ctx: context.Background(), budget: 1, now: time.Now, mark: time.Now()}
	for range 3 {
		c.rehashPass(context.Background(), c.Verified().Manifest, th)
	}
	n := 0
	for _, e := range f.rec.Events() {
		if e.Code == "integrity.file.missing" && e.Fields["path"] == "." {
			n++
		}
	}
	if n != 1 || len(f.dev.Codes()) != 1 {
		t.Fatalf("root gone reported %d times, device told %d times", n, len(f.dev.Codes()))
	}
}
