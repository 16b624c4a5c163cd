package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/state"
)

// Config is what Auth needs. Fields marked "wiring" have no default; the
// others come from the [auth] table (FromConfig) and are checked by New.
type Config struct {
	Store  state.Store       // wiring: users and sessions live here
	Events eventlog.Recorder // wiring: every auth event goes here
	Logger *slog.Logger      // wiring: operational log; nil discards
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// StateDir is where the setup code file (setup-code, mode 0600) is
	// written while the device is not provisioned.
	StateDir string
	// OnSetupCode is called with every setup code issued (at New and
	// whenever the previous one expired or was burnt), for the daemon to
	// show it on the device's console. It must not block.
	OnSetupCode func(code string, expires time.Time)
	// OnProvisioned, if set, is called once when Setup has created the
	// first admin (e.g. to move the device from "provisioning" to
	// "operational"). It must not block or call Setup.
	OnProvisioned func(admin string)

	DeviceName             string
	MinPasswordLength      int
	Argon2                 Params
	MaxConcurrentHashes    int
	IdleTimeout            time.Duration
	AbsoluteTimeout        time.Duration
	ReauthWindow           time.Duration
	SetupCodeLifetime      time.Duration
	AccountMaxDelay        time.Duration
	SourceMaxDelay         time.Duration
	MaxConsecutiveFailures int
}

// FromConfig fills the policy fields of a Config from the configuration.
func FromConfig(c config.Auth, d config.Device) Config {
	return Config{
		StateDir:               d.StateDir,
		DeviceName:             d.Name,
		MinPasswordLength:      c.MinPasswordLength,
		Argon2:                 Params{Time: c.Argon2Time, MemoryKiB: c.Argon2MemoryKiB, Threads: c.Argon2Threads},
		MaxConcurrentHashes:    c.MaxConcurrentHashes,
		IdleTimeout:            c.SessionIdleTimeout.D(),
		AbsoluteTimeout:        c.SessionAbsoluteTimeout.D(),
		ReauthWindow:           c.ReauthWindow.D(),
		SetupCodeLifetime:      c.SetupCodeLifetime.D(),
		AccountMaxDelay:        c.AccountMaxDelay.D(),
		SourceMaxDelay:         c.SourceMaxDelay.D(),
		MaxConsecutiveFailures: c.MaxConsecutiveFailures,
	}
}

// Auth holds accounts, sessions and the setup code. It is safe for
// concurrent use.
type Auth struct {
	cfg     Config
	policy  Policy
	log     *slog.Logger
	now     func() time.Time
	thr     *throttle
	slots   *hashSlots
	dummy   PHC // verified against for unknown users: same cost
	provisd atomic.Bool

	setupMu sync.Mutex // guards setup and serialises Setup
	setup   setupState

	closeOnce sync.Once
	done      chan struct{}
}

type setupState struct {
	hash     [32]byte
	expires  time.Time
	code     string // display form, for SetupCode
	failures int
	until    time.Time // throttled until
}

// Throttling rules (see throttle).
var (
	rulePair     = rule{after: 3}                         // one account from one source; max from SourceMaxDelay
	ruleSrc      = rule{after: 10}                        // one source, any account
	ruleAcct     = rule{after: 10}                        // one account, any source; max from AccountMaxDelay
	ruleSetup    = rule{after: 20, max: 10 * time.Second} // all sources together
	ruleSetupSrc = rule{after: 5}                         // one source; max from SourceMaxDelay
)

// setupBurnAfter wrong codes in all make the setup code unusable; a new one
// is issued and an alert recorded. (100 bits cannot be guessed; this is the
// alarm, and a bound.) The guessing source itself is throttled much sooner,
// so that it cannot keep others from provisioning the device.
const setupBurnAfter = 50

// New checks cfg and returns an Auth. On a device without an admin it
// issues a setup code.
func New(cfg Config) (*Auth, error) {
	if cfg.Store == nil || cfg.Events == nil {
		return nil, errors.New("new auth: Store and Events are required")
	}
	if err := checkConfig(&cfg); err != nil {
		return nil, fmt.Errorf("new auth: %w", err)
	}
	a := &Auth{cfg: cfg, log: cfg.Logger, now: cfg.Now, done: make(chan struct{}),
		policy: Policy{MinLength: cfg.MinPasswordLength, DeviceName: cfg.DeviceName}}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.thr = newThrottle(a.now)
	a.slots = newHashSlots(cfg.MaxConcurrentHashes, 2*time.Second)
	dummy, _ := ParsePHC(hashPassword("medguard dummy password for unknown users", cfg.Argon2))
	a.dummy = dummy
	var n int
	err := cfg.Store.View(func(tx state.Tx) (err error) { n, err = activeAdmins(tx); return err })
	if err != nil {
		return nil, fmt.Errorf("new auth: read accounts: %w", err)
	}
	a.provisd.Store(n > 0)
	if n > 0 {
		// A code file left by a crash right after provisioning is stale.
		if err := os.Remove(a.setupCodeFile()); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("new auth: remove stale setup code: %w", err)
		}
	} else {
		a.setupMu.Lock()
		err = a.issueSetupCodeLocked(context.Background())
		a.setupMu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("new auth: %w", err)
		}
	}
	return a, nil
}

func checkConfig(c *Config) error {
	switch {
	case c.MinPasswordLength < 8 || c.MinPasswordLength > 64:
		return fmt.Errorf("minimum password length %d out of range [8, 64]", c.MinPasswordLength)
	case c.Argon2.valid() != nil:
		return c.Argon2.valid()
	case c.MaxConcurrentHashes < 1:
		return fmt.Errorf("max concurrent hashes %d: want at least 1", c.MaxConcurrentHashes)
	case c.IdleTimeout <= 0 || c.AbsoluteTimeout < c.IdleTimeout || c.ReauthWindow <= 0:
		return fmt.Errorf("session timeouts idle=%v absolute=%v reauth=%v: want 0 < idle <= absolute, reauth > 0", c.IdleTimeout, c.AbsoluteTimeout, c.ReauthWindow)
	case c.SetupCodeLifetime <= 0 || c.AccountMaxDelay <= 0 || c.SourceMaxDelay <= 0:
		return errors.New("setup code lifetime and throttling delays must be positive")
	case c.MaxConsecutiveFailures < 1 || c.MaxConsecutiveFailures > 100:
		return fmt.Errorf("max consecutive failures %d out of range [1, 100]", c.MaxConsecutiveFailures)
	case c.StateDir == "":
		return errors.New("state directory is required")
	}
	return nil
}

// Run renews an expired setup code while the device is not provisioned and
// removes expired sessions, until ctx ends.
func (a *Auth) Run(ctx context.Context) error {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.done:
			return nil
		case <-t.C:
			a.tick(ctx)
		}
	}
}

func (a *Auth) tick(ctx context.Context) {
	if !a.provisd.Load() {
		a.setupMu.Lock()
		if !a.now().Before(a.setup.expires) {
			if err := a.issueSetupCodeLocked(ctx); err != nil {
				a.log.Error("renew setup code", "err", err)
			}
		}
		a.setupMu.Unlock()
	}
	if err := a.SweepSessions(ctx); err != nil {
		a.log.Error("sweep sessions", "err", err)
	}
}

// Close stops Run. It is safe to call more than once.
func (a *Auth) Close() error {
	a.closeOnce.Do(func() { close(a.done) })
	return nil
}

// Provisioned reports whether an admin account exists.
func (a *Auth) Provisioned() bool { return a.provisd.Load() }

// Policy returns the password policy in force.
func (a *Auth) Policy() Policy { return a.policy }

// event records a security event; a failure to record is logged, not
// returned, so that a full log cannot lock clinicians out (the event log
// raises its own alarm).
func (a *Auth) event(ctx context.Context, code string, sev eventlog.Severity, actor, source, msg string, fields map[string]string) {
	e := eventlog.Event{Code: code, Category: eventlog.CategoryAuth, Severity: sev,
		Actor: actor, Source: source, Message: msg, Fields: fields}
	a.alert(ctx, e)
}

func (a *Auth) alert(ctx context.Context, e eventlog.Event) {
	if e.Category == "" {
		e.Category = eventlog.CategoryAuth
	}
	if _, err := a.cfg.Events.Record(context.WithoutCancel(ctx), e); err != nil {
		a.log.Error("record security event", "code", e.Code, "err", err)
	}
}

// setupCodeFile is the root-only file that holds the current setup code.
func (a *Auth) setupCodeFile() string { return filepath.Join(a.cfg.StateDir, "setup-code") }

func (a *Auth) issueSetupCodeLocked(ctx context.Context) error {
	code := newSetupCode()
	exp := a.now().Add(a.cfg.SetupCodeLifetime)
	a.setup = setupState{hash: setupCodeHash(code), expires: exp, code: code}
	if err := writeFileAtomic(a.setupCodeFile(), []byte(code+"\nexpires "+exp.UTC().Format(time.RFC3339)+"\n")); err != nil {
		return fmt.Errorf("write setup code: %w", err)
	}
	a.event(ctx, "auth.setup.code_issued", eventlog.SeverityNotice, "system", "console",
		"A one-time setup code was issued on the device's console.", map[string]string{"expires": exp.UTC().Format(time.RFC3339)})
	if a.cfg.OnSetupCode != nil {
		a.cfg.OnSetupCode(code, exp)
	}
	return nil
}

// SetupCode returns the current setup code and when it expires, or ok false
// when the device is provisioned.
func (a *Auth) SetupCode() (code string, expires time.Time, ok bool) {
	if a.provisd.Load() {
		return "", time.Time{}, false
	}
	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	return a.setup.code, a.setup.expires, a.setup.code != ""
}

// writeFileAtomic writes data to path with mode 0600 via a temporary file
// and a rename, so that no reader sees a partial file.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".setup-code-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
