package eventlog

import (
	"context"
	"testing"
)

func TestRecordReadReopen(t *testing.T) {
	env := newTestEnv(t)
	l := env.open()
	seqs := fill(t, l, 40)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("sequence numbers not increasing: %v", seqs)
		}
	}
	recs, err := l.Read(seqs[0], 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Code == "auth.login.failed" {
			n++
		}
		if r.BootID != "boot-1" || r.Time.IsZero() {
			t.Fatalf("record %d: boot %q time %v", r.Seq, r.BootID, r.Time)
		}
	}
	if n != 40 {
		t.Fatalf("read %d events, want 40", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Record(context.Background(), testEvent(0)); err != ErrClosed {
		t.Fatalf("Record after Close: %v, want ErrClosed", err)
	}
	l = env.open()
	defer l.Close()
	s, err := l.Record(context.Background(), testEvent(99))
	if err != nil {
		t.Fatal(err)
	}
	if s <= seqs[len(seqs)-1] {
		t.Fatalf("after reopen got seq %d, want > %d", s, seqs[len(seqs)-1])
	}
	for _, r := range mustRead(t, l, 1) {
		if _, err := ParseRecord(r.Line()); err != nil {
			t.Fatalf("record %d does not parse back: %v", r.Seq, err)
		}
	}
}

func mustRead(t *testing.T, l *Log, from uint64) []Record {
	t.Helper()
	recs, err := l.Read(from, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestWait(t *testing.T) {
	env := newTestEnv(t)
	l := env.open()
	defer l.Close()
	last := l.Last()
	done := make(chan error, 1)
	go func() { done <- l.Wait(context.Background(), last) }()
	fill(t, l, 1)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, l.Last()); err == nil {
		t.Fatal("Wait with a cancelled context returned nil")
	}
}
