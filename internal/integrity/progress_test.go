package integrity

import (
	"context"
	"sync"
	"testing"
)

// Build and Verify report their progress in bytes, ending at the whole:
// the CLI shows it for a large software tree.
func TestProgressReachesTheWhole(t *testing.T) {
	f := newFixture(t)
	type call struct{ done, total int64 }
	var mu sync.Mutex
	var calls []call
	progress := func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, call{done, total})
	}
	m, err := Build(context.Background(), f.root, BuildOptions{Product: "demo", Version: "1.0", SecurityVersion: 1, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	files := 0
	for _, e := range m.Files {
		if e.Kind != KindSymlink {
			size += e.Size
			files++
		}
	}
	check := func(what string) {
		t.Helper()
		if len(calls) != files {
			t.Fatalf("%s: %d progress calls for %d files", what, len(calls), files)
		}
		maxDone := int64(0)
		for _, c := range calls {
			if c.total != size || c.done > size || c.done <= 0 {
				t.Errorf("%s: progress %d of %d, want at most %d of %d", what, c.done, c.total, size, size)
			}
			maxDone = max(maxDone, c.done)
		}
		if maxDone != size {
			t.Errorf("%s: progress ended at %d of %d", what, maxDone, size)
		}
	}
	check("build")
	calls = nil
	rep, err := Verify(context.Background(), f.root, m, VerifyOptions{Progress: progress})
	if err != nil || len(rep.Findings) != 0 {
		t.Fatalf("verify: %v, findings %v", err, rep.Findings)
	}
	if rep.Bytes != size {
		t.Errorf("verify hashed %d bytes, the listed files hold %d", rep.Bytes, size)
	}
	files = len(m.Files) // verify reports every entry, the symlink too
	check("verify")
}
