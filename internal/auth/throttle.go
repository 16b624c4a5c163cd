package auth

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// throttle counts recent failures per key and answers how long a new
// attempt must wait. The delay grows as base·2^(n-after) from the after-th
// failure on, up to a ceiling (OWASP ASVS 5.0 V6.3.1, NIST SP 800-63B-4
// 3.2.2). Entries are forgotten an hour after their last failure, and the
// table is bounded: when it is full, a new key takes the place of the
// stalest entry that is not being delayed (its few failures are lost), so
// that a flood of sources or names can neither grow memory nor make a new
// key escape throttling, and no delayed key is ever dropped. Only when
// every entry is being delayed are new keys counted together in one
// overflow entry and not delayed; the hashing cap still bounds their rate.
type throttle struct {
	now   func() time.Time
	limit int // entries at most

	mu      sync.Mutex // guards entries
	entries map[string]*failures
}

type failures struct {
	n      int
	last   time.Time
	until  time.Time
	warned bool // a throttling event was recorded for this run of failures
}

// rule says when a kind of key starts to be throttled and how far.
type rule struct {
	after int
	max   time.Duration
}

const (
	forgetAfter   = time.Hour
	overflowKey   = "overflow"
	throttleLimit = 16384
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, limit: throttleLimit, entries: map[string]*failures{}}
}

func delay(n int, r rule) time.Duration {
	if n < r.after {
		return 0
	}
	shift := n - r.after
	if shift > 30 {
		return r.max
	}
	return min(time.Second<<shift, r.max)
}

// wait returns how long the key must still wait, zero if none.
func (t *throttle) wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.entries[key]
	if f == nil {
		return 0
	}
	return max(f.until.Sub(t.now()), 0)
}

// fail counts a failure for key under r. It returns the count and whether
// this failure started throttling (for one event per run of failures).
func (t *throttle) fail(key string, r rule) (n int, started bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.entries[key]
	if f != nil && now.Sub(f.last) > forgetAfter {
		f = nil
		delete(t.entries, key)
	}
	if f == nil {
		if len(t.entries) >= t.limit {
			t.sweepLocked(now)
		}
		if len(t.entries) >= t.limit && !t.evictLocked(now) {
			key = overflowKey
			f = t.entries[key]
		}
		if f == nil {
			f = &failures{}
			t.entries[key] = f
		}
	}
	f.n++
	f.last = now
	if d := delay(f.n, r); d > 0 {
		f.until = now.Add(d)
		if !f.warned {
			f.warned = true
			started = true
		}
	}
	return f.n, started
}

// reset forgets key (after a success).
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, key)
}

// evictLocked removes the entry with the oldest last failure among those
// not being delayed now, and reports whether there was one. It runs only
// when the table is full, at most once per hashed attempt.
func (t *throttle) evictLocked(now time.Time) bool {
	var victim string
	var oldest time.Time
	for k, f := range t.entries {
		if k == overflowKey || f.until.After(now) {
			continue
		}
		if victim == "" || f.last.Before(oldest) {
			victim, oldest = k, f.last
		}
	}
	if victim == "" {
		return false
	}
	delete(t.entries, victim)
	return true
}

func (t *throttle) sweepLocked(now time.Time) {
	for k, f := range t.entries {
		if now.Sub(f.last) > forgetAfter {
			delete(t.entries, k)
		}
	}
}

// sourceKey reduces a source ("192.0.2.7:5123", "[2001:db8::1]:443",
// "console") to what an attacker cannot cheaply vary: the IPv4 address, or
// the IPv6 /64.
func sourceKey(src string) string {
	if ap, err := netip.ParseAddrPort(src); err == nil {
		return prefixKey(ap.Addr())
	}
	if a, err := netip.ParseAddr(src); err == nil {
		return prefixKey(a)
	}
	return src
}

func prefixKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// hashSlots caps how many password hashes run at once, so that a flood of
// logins cannot exhaust memory (argon2id needs MemoryKiB per hash). An
// attempt waits at most maxWait for a slot, and only while fewer than
// queue others wait; otherwise it is refused at once.
type hashSlots struct {
	slots   chan struct{}
	waiting atomic.Int32
	queue   int32
	maxWait time.Duration
	peak    atomic.Int32 // most slots ever held at once, for tests and metrics
}

func newHashSlots(n int, maxWait time.Duration) *hashSlots {
	return &hashSlots{slots: make(chan struct{}, n), queue: int32(2 * n), maxWait: maxWait}
}

func (h *hashSlots) acquire(ctx context.Context) bool {
	if h.tryAcquire(ctx) {
		n := int32(len(h.slots))
		for p := h.peak.Load(); n > p && !h.peak.CompareAndSwap(p, n); p = h.peak.Load() {
		}
		return true
	}
	return false
}

func (h *hashSlots) tryAcquire(ctx context.Context) bool {
	select {
	case h.slots <- struct{}{}:
		return true
	default:
	}
	if h.waiting.Add(1) > h.queue {
		h.waiting.Add(-1)
		return false
	}
	defer h.waiting.Add(-1)
	tm := time.NewTimer(h.maxWait)
	defer tm.Stop()
	select {
	case h.slots <- struct{}{}:
		return true
	case <-tm.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (h *hashSlots) release() { <-h.slots }
