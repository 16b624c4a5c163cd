package notify

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/keystore/keystoretest"
)

// TestWithTheRealLog runs the notifier on the Security Event Log: a state
// change recorded in the log becomes a clinical warning, an
// acknowledgement is recorded in the log, and a notifier started later
// rebuilds both from it.
func TestWithTheRealLog(t *testing.T) {
	dir := t.TempDir()
	ks, err := keystoretest.NewStore(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := eventlog.Open(eventlog.Config{Dir: filepath.Join(dir, "log"), Keys: ks, BootID: "boot-1", DeviceName: "icu-monitor-7"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	start := func() (*Notifier, func()) {
		n, err := New(Config{Source: LogSource(l), Recorder: l, ReplayEvents: 1000})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); n.Run(ctx) }()
		return n, func() { cancel(); <-done }
	}
	n, stop := start()
	seq, err := l.Record(context.Background(), stateEvent("not-suitable"))
	if err != nil {
		t.Fatal(err)
	}
	until(t, func() bool { return len(n.ClinicalWarnings()) == 1 })
	if _, err := n.Acknowledge(context.Background(), seq, Identity{User: "bob", Source: "10.0.0.9:1"}, "device replaced"); err != nil {
		t.Fatal(err)
	}
	stop()
	recs, err := l.Read(seq+1, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		found = found || (r.Code == AckCode && r.Actor == "bob" && r.Fields["comment"] == "device replaced")
	}
	if !found {
		t.Fatal("the acknowledgement is not in the log")
	}
	n2, stop2 := start()
	defer stop2()
	until(t, func() bool { no, ok := n2.Get(seq); return ok && no.Ack != nil && len(n2.ClinicalWarnings()) == 1 })
}

func until(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var _ eventlog.Recorder = (*eventlog.Log)(nil)
