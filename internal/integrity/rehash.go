package integrity

import (
	"context"
	"time"
)

// throttle keeps work within a share of one core: after work that took d
// it owes a pause of d·(1/budget − 1), and pauses once the debt exceeds a
// few milliseconds (fewer, longer sleeps cost less than many short ones).
type throttle struct {
	ctx    context.Context
	budget float64
	now    func() time.Time
	mark   time.Time     // start of the work not yet paid for
	debt   time.Duration // pause owed
	busy   time.Duration // total work measured
	// sleep pauses for d or until ctx is done (false); nil: a timer.
	sleep func(ctx context.Context, d time.Duration) bool
}

const minPause = 10 * time.Millisecond

// pace accounts for the work since the last call and pauses if due. It
// returns false when ctx is done.
func (t *throttle) pace() bool {
	now := t.now()
	d := now.Sub(t.mark)
	t.busy += d
	t.debt += time.Duration(float64(d) * (1/t.budget - 1))
	if t.debt >= minPause {
		sleep := t.sleep
		if sleep == nil {
			sleep = sleepCtx
		}
		if !sleep(t.ctx, t.debt) {
			return false
		}
		t.debt = 0
	}
	t.mark = t.now()
	return t.ctx.Err() == nil
}

// rehashLoop re-hashes every listed file, and walks for unlisted ones, in
// endless passes within the budget.
func (c *Checker) rehashLoop(ctx context.Context, m *Manifest) {
	t := &throttle{ctx: ctx, budget: c.cfg.RehashBudget, now: time.Now, mark: time.Now()}
	for ctx.Err() == nil {
		start := time.Now()
		busy0 := t.busy
		n, ok := c.rehashPass(ctx, m, t)
		if !ok {
			return
		}
		c.statsMu.Lock()
		c.stats.Passes++
		c.stats.LastPass = Duration(time.Since(start))
		c.stats.Busy += Duration(t.busy - busy0)
		c.stats.Bytes += n
		c.statsMu.Unlock()
		c.log.Debug("integrity re-hash pass", "bytes", n, "took", time.Since(start), "busy", t.busy-busy0)
	}
}

// rehashPass checks every entry once, then the unlisted files.
func (c *Checker) rehashPass(ctx context.Context, m *Manifest, t *throttle) (int64, bool) {
	dir, err := openRoot(c.cfg.Root)
	if err != nil {
		c.rootGone(ctx, err)
		return 0, t.pace()
	}
	defer dir.Close()
	ck := checker{dir: dir, buf: make([]byte, 256<<10), now: c.cfg.Now, via: "rehash",
		pace: func(int) { t.pace() }}
	var total int64
	for _, e := range m.Files {
		fs, n := ck.check(e)
		total += n
		if len(fs) > 0 {
			c.reportFindings(ctx, fs)
		}
		if !t.pace() {
			return total, false
		}
	}
	un, err := findUnlisted(ctx, c.cfg.Root, dir, m, c.cfg.Now, "rehash")
	switch {
	case err == nil:
		c.reportFindings(ctx, un)
	case ctx.Err() == nil:
		c.rootGone(ctx, err) // the root itself cannot be walked
	}
	return total, t.pace()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
