package vuln

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/sbom"
)

func TestWatcherRunsOnIntervalAndReportsNewOnce(t *testing.T) {
	dir := t.TempDir()
	prod := filepath.Join(dir, "released")
	os.MkdirAll(prod, 0o755)
	data, _ := sbom.CycloneDXBytes(release("1.0.0", "pkg:golang/golang.org/x/net@v0.0.0-20220826154423-83b083e8dc8b"))
	os.WriteFile(filepath.Join(prod, "monitor-1.0.0.cdx.json"), data, 0o644)
	tick := make(chan time.Time)
	runs := make(chan []WatchFinding, 4)
	w, err := NewWatcher(WatcherConfig{
		Products: prod, DB: []string{"testdata/debian", "testdata/go"}, State: filepath.Join(dir, "state.json"),
		OnRun: func(_ context.Context, fs []WatchFinding) { runs <- append([]WatchFinding(nil), fs...) },
		After: func(time.Duration) <-chan time.Time { return tick },
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- w.Run(context.Background()) }()
	first := <-runs
	if len(first) != 1 || !first[0].New {
		t.Fatalf("first run: %+v", first)
	}
	tick <- time.Now()
	second := <-runs
	if len(second) != 1 || second[0].New {
		t.Fatalf("second run reports the finding as new again: %+v", second)
	}
	w.Close()
	w.Close() // idempotent
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := NewWatcher(WatcherConfig{Products: prod, DB: []string{"x"}, OnRun: func(context.Context, []WatchFinding) {}, Interval: time.Second}); err == nil {
		t.Error("an interval of one second accepted")
	}
}
