package vuln

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// WatcherConfig configures the daily portfolio watch (the maker's side:
// "watch published vulnerabilities every day").
type WatcherConfig struct {
	Products string        // directory of released products' SBOMs
	DB       []string      // OSV feeds: directories or zip files, re-read every run
	Triage   string        // triage file (OpenVEX); "" for none
	State    string        // state file, for what is new; "" to report everything every run
	Interval time.Duration // between runs; default 24h, at least 1 minute
	// OnRun receives the findings of each run (new ones have New set). It
	// must not keep the slice.
	OnRun  func(ctx context.Context, found []WatchFinding)
	Logger *slog.Logger
	// After is the clock's timer (tests pass a fake); default time.After.
	After func(time.Duration) <-chan time.Time
}

// Watcher runs the portfolio watch on an interval.
type Watcher struct {
	cfg WatcherConfig

	mu     sync.Mutex // guards closed
	closed bool
	stop   chan struct{}
}

// NewWatcher checks cfg and returns a Watcher.
func NewWatcher(cfg WatcherConfig) (*Watcher, error) {
	if cfg.Products == "" || len(cfg.DB) == 0 || cfg.OnRun == nil {
		return nil, errors.New("vuln watcher: products, db and OnRun are required")
	}
	if cfg.Interval == 0 {
		cfg.Interval = 24 * time.Hour
	}
	if cfg.Interval < time.Minute {
		return nil, fmt.Errorf("vuln watcher: interval %v is below one minute", cfg.Interval)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	return &Watcher{cfg: cfg, stop: make(chan struct{})}, nil
}

// Run watches until ctx ends or Close is called: once at start, then every
// Interval. A failed run (a feed that does not parse, an SBOM that does
// not read) is logged and retried at the next interval; it never reports
// an empty result as if nothing were found.
func (w *Watcher) Run(ctx context.Context) error {
	for {
		if err := w.RunOnce(ctx); err != nil {
			w.cfg.Logger.Error("vulnerability watch failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.stop:
			return nil
		case <-w.cfg.After(w.cfg.Interval):
		}
	}
}

// RunOnce runs one watch.
func (w *Watcher) RunOnce(ctx context.Context) error {
	db, err := Open(w.cfg.DB...)
	if err != nil {
		return err
	}
	p, err := LoadPortfolio(w.cfg.Products)
	if err != nil {
		return err
	}
	var tri *Triage
	if w.cfg.Triage != "" {
		if tri, err = LoadTriage(w.cfg.Triage, "", time.Now()); err != nil {
			return err
		}
	}
	prev := map[string]bool{}
	if w.cfg.State != "" {
		if prev, err = LoadWatchState(w.cfg.State); err != nil {
			return err
		}
	}
	found, err := p.Watch(db, tri, prev)
	if err != nil {
		return err
	}
	newN := 0
	for _, f := range found {
		if f.New && !f.Suppressed() {
			newN++
		}
	}
	if un := p.Unchecked(); len(un) > 0 {
		w.cfg.Logger.Warn("vulnerability watch: components that cannot be matched", "count", len(un), "first", un[0].SBOM+": "+un[0].Component+": "+un[0].Reason)
	}
	w.cfg.Logger.Info("vulnerability watch", "releases", len(p.Releases), "records", db.Len(), "findings", len(found), "new", newN)
	w.cfg.OnRun(ctx, found)
	if w.cfg.State != "" {
		return SaveWatchState(w.cfg.State, time.Now(), found)
	}
	return nil
}

// Close stops Run; it is idempotent.
func (w *Watcher) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.stop)
	}
	return nil
}
