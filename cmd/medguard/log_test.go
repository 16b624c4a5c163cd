package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/medguard/medguard/internal/eventlog"
)

// "log test-write" exists only in the test binary: it writes events into
// the log of a state directory with the real key store, standing in for
// the daemon in the log testscripts.
func init() {
	register(&command{
		name:    "log test-write",
		summary: "(tests only) record N test events into the state directory's log",
		usage:   "medguard log test-write [--config FILE] [--state-dir DIR] [--n N]",
		example: "medguard log test-write --config medguard.toml --n 50",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := newFlags("log test-write")
			var sf storeFlags
			sf.register(fs)
			n := fs.Int("n", 10, "events")
			if _, err := parseFlags(fs, args); err != nil {
				return err
			}
			s, cfg, err := sf.open()
			if err != nil {
				return err
			}
			defer s.Close()
			l, err := eventlog.Open(eventlog.Config{
				Dir: filepath.Join(cfg.Device.StateDir, "log"), Keys: s, BootID: fmt.Sprintf("test-%d", os.Getpid()),
				DeviceName: cfg.Device.Name, EpochEntries: 16, CheckpointEntries: 8, FloodBurst: -1,
			})
			if err != nil {
				return err
			}
			for i := range *n {
				_, err := l.Record(ctx, eventlog.Event{Code: "auth.login.failed", Category: eventlog.CategoryAuth,
					Severity: eventlog.SeverityWarning, Actor: fmt.Sprintf("user%d", i), Source: "10.0.0.7:5123",
					Message: "login failed: wrong password"})
				if err != nil {
					l.Close()
					return err
				}
			}
			return l.Close()
		},
	})
}
