package forward

import (
	"testing"
	"time"
)

func TestRewind(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	r := newRewind(10, time.Second)
	r.flushed(20, 1000) // entries 10..19 end at byte 1000
	r.flushed(30, 2000)
	if s := r.acked(500, t0); s != 10 {
		t.Fatalf("partly acknowledged: safe = %d, want 10", s)
	}
	if s := r.acked(1500, t0); s != 10 {
		t.Fatalf("acknowledged just now: safe = %d, want 10 (window not over)", s)
	}
	if s := r.acked(1500, t0.Add(999*time.Millisecond)); s != 10 {
		t.Fatalf("before the window ends: safe = %d", s)
	}
	if s := r.acked(2000, t0.Add(time.Second)); s != 20 {
		t.Fatalf("after the window: safe = %d, want 20", s)
	}
	if s := r.acked(2000, t0.Add(1500*time.Millisecond)); s != 20 {
		t.Fatalf("second mark acknowledged at 1s, window ends at 2s: safe = %d", s)
	}
	if s := r.acked(2000, t0.Add(2*time.Second)); s != 30 {
		t.Fatalf("safe = %d, want 30", s)
	}
	r.flushed(40, 3000)
	if s := r.reset(); s != 30 {
		t.Fatalf("reset resends from %d, want 30", s)
	}
	// Many marks: merging keeps the safe point behind the truth.
	r = newRewind(1, time.Nanosecond)
	for i := uint64(1); i <= 3*maxMarks; i++ {
		r.flushed(i+1, i*10)
	}
	if len(r.marks) > maxMarks {
		t.Fatalf("%d marks kept", len(r.marks))
	}
	r.acked(15000, t0)
	if s := r.acked(15000, t0.Add(time.Second)); s > 1501 || s < 1000 {
		t.Fatalf("safe = %d, want at most 1501 (byte 15000 ends entry 1500) and some progress", s)
	}
}
