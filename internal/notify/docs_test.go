package notify

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

var update = flag.Bool("update", false, "rewrite docs/notifications.md from the catalog")

// TestDocsMatchCatalog keeps docs/notifications.md equal to the catalog
// (issue 6, item 1).
func TestDocsMatchCatalog(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "notifications.md")
	want := Markdown(Catalog)
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it: go test ./internal/notify -run TestDocsMatchCatalog -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/notifications.md differs from the catalog; regenerate it: go test ./internal/notify -run TestDocsMatchCatalog -update")
	}
	for _, k := range Catalog {
		if !bytes.Contains(got, []byte("## "+k.Code+"\n")) {
			t.Errorf("docs lack %s", k.Code)
		}
	}
}

// BenchmarkEventToClinicalWarning measures the time from an event being
// appended to the log to its clinical warning being visible, through Run
// (the requirement is 1 s).
func BenchmarkEventToClinicalWarning(b *testing.B) {
	log := newMemLog()
	n, _ := New(Config{Source: log, Recorder: log, InboxSize: 100})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx)
	var worst time.Duration
	for b.Loop() {
		start := time.Now()
		seq, _ := log.Record(ctx, stateEvent("not-suitable"))
		for {
			if no, ok := n.Get(seq); ok && no.Active {
				break
			}
			time.Sleep(time.Microsecond)
		}
		worst = max(worst, time.Since(start))
		log.Record(ctx, eventlog.Event{Code: "device.state.changed", Category: eventlog.CategorySystem, Severity: eventlog.SeverityNotice, Fields: map[string]string{"to": "recovery"}})
	}
	b.ReportMetric(float64(worst.Microseconds()), "worst-µs")
}

// BenchmarkAnnotate is the forwarder's cost per entry when it names the
// notification an entry raises: an entry that raises none (most) and one
// that does.
func BenchmarkAnnotate(b *testing.B) {
	n, _ := New(Config{})
	none := eventlog.Event{Code: "auth.login.failed", Category: eventlog.CategoryAuth, Severity: eventlog.SeverityWarning}
	one := eventlog.Event{Code: "integrity.file.changed", Category: eventlog.CategoryIntegrity, Severity: eventlog.SeverityCritical,
		Fields: map[string]string{"path": "/usr/bin/vitalsim"}}
	b.Run("none", func(b *testing.B) {
		for b.Loop() {
			n.Annotate(none)
		}
	})
	b.Run("notification", func(b *testing.B) {
		for b.Loop() {
			n.Annotate(one)
		}
	})
}
