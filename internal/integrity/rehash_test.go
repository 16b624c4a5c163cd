package integrity

import (
	"context"
	"testing"
	"time"
)

// TestThrottleKeepsBudget: with a fake clock, the pauses requested keep
// work / (work + pause) at the budget, and short work is paid in batches.
func TestThrottleKeepsBudget(t *testing.T) {
	for _, budget := range []float64{0.02, 0.1, 0.5} {
		now := time.Unix(0, 0)
		var paused time.Duration
		sleeps := 0
		th := &throttle{ctx: context.Background(), budget: budget, mark: now,
			now: func() time.Time { return now },
			sleep: func(_ context.Context, d time.Duration) bool {
				paused += d
				sleeps++
				now = now.Add(d)
				return true
			}}
		for range 1000 {
			now = now.Add(100 * time.Microsecond) // a small piece of work
			th.pace()
		}
		work := th.busy
		if work != 100*time.Millisecond {
			t.Fatalf("busy = %v, want 100ms", work)
		}
		got := float64(work) / float64(work+paused+th.debt)
		if got < budget*0.99 || got > budget*1.01 {
			t.Errorf("budget %v: share of work %.4f", budget, got)
		}
		if sleeps >= 1000 {
			t.Errorf("budget %v: %d sleeps for 1000 pieces of work: not batched", budget, sleeps)
		}
	}
}

func TestThrottleStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	now := time.Unix(0, 0)
	th := &throttle{ctx: ctx, budget: 0.01, mark: now, now: func() time.Time { now = now.Add(time.Second); return now }}
	if th.pace() {
		t.Fatal("pace went on after the context ended")
	}
}
