package auth

import (
	"fmt"
	"testing"
	"time"
)

// Attack: a guesser who fills the throttle's table with fresh keys (many
// sources, many unknown names) must not escape throttling for a key that
// comes after the table is full; and honest keys that were never
// throttled must not be throttled together with the attacker's.
func TestThrottleTableFloodDoesNotEscape(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	th := newThrottle(clk.Now)
	th.limit = 64
	r := rule{after: 3, max: 15 * time.Minute}
	for i := range th.limit {
		th.fail(fmt.Sprintf("s:198.51.100.%d", i), r) // one failure each: below the threshold
	}
	clk.Advance(time.Second)
	target := "p:nurse|203.0.113.9"
	for range 5 {
		th.fail(target, r)
	}
	if th.wait(target) <= 0 {
		t.Fatal("a key added to a full table is never throttled")
	}
	if len(th.entries) > th.limit {
		t.Fatalf("table grew to %d entries, limit %d", len(th.entries), th.limit)
	}
	if w := th.wait("p:doctor|192.0.2.4"); w != 0 {
		t.Fatalf("an honest key without failures waits %v", w)
	}
	// A table full of throttled keys keeps them all: none is evicted to
	// make room, so none of them escapes.
	th2 := newThrottle(clk.Now)
	th2.limit = 16
	for i := range th2.limit {
		for range 5 {
			th2.fail(fmt.Sprintf("s:192.0.2.%d", i), r)
		}
	}
	th2.fail("s:192.0.2.200", r)
	for i := range th2.limit {
		if th2.wait(fmt.Sprintf("s:192.0.2.%d", i)) <= 0 {
			t.Fatalf("throttled key %d was evicted by a new one", i)
		}
	}
}
