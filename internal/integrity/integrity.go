package integrity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// Device is the part of the device state machine that integrity drives:
// any critical finding makes the device not suitable for clinical use, with
// a cause the clinician and the admin can read and a recommended action.
// code is the event code of the finding ("integrity.file.changed"). The
// daemon implements it over device.Machine (Move to not-suitable). It may
// be called more than once, from several goroutines.
type Device interface {
	NotSuitable(ctx context.Context, code, cause, action string)
}

// Config is what a Checker needs. The daemon fills it from the [integrity]
// table of the configuration file (see FromConfig) and its other parts.
type Config struct {
	// Root is the software root: an absolute path to a directory.
	Root string
	// ManifestFile is the signed manifest (a DSSE envelope, JSON).
	ManifestFile string
	// TrustedKeys are the maker's release keys; Threshold of them (1 to
	// len(TrustedKeys)) must have signed a manifest.
	TrustedKeys []PublicKey
	Threshold   int
	// Floor keeps the highest accepted security version across restarts.
	Floor Floor
	// Recorder receives the security events (Category "integrity").
	Recorder eventlog.Recorder
	// Device is told when the device is not suitable; nil: nobody.
	Device Device
	// Logger receives operational logs; nil: discarded.
	Logger *slog.Logger
	// Workers hash in parallel at boot; 0 means one per CPU.
	Workers int
	// RehashBudget is the share of one CPU core the continuous re-hash may
	// use on average, in (0, 1]. Default 0.02 (2 %).
	RehashBudget float64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Checker verifies the software root at boot and watches it while the
// device runs.
type Checker struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex // guards verified, findings, closed
	verified *Verified  // nil until VerifyBoot accepted a manifest
	findings map[string]Finding
	closed   bool
	stop     chan struct{} // closed by Close

	statsMu sync.Mutex // guards stats
	stats   Stats
}

// New checks cfg and returns a Checker. It reads nothing yet.
func New(cfg Config) (*Checker, error) {
	if !filepath.IsAbs(cfg.Root) || !filepath.IsAbs(cfg.ManifestFile) {
		return nil, errors.New("integrity: software root and manifest file must be absolute paths")
	}
	if len(cfg.TrustedKeys) == 0 {
		return nil, errors.New("integrity: no trusted release key configured")
	}
	if cfg.Threshold < 1 || cfg.Threshold > len(cfg.TrustedKeys) {
		return nil, fmt.Errorf("integrity: threshold %d with %d trusted keys", cfg.Threshold, len(cfg.TrustedKeys))
	}
	seen := map[string]bool{}
	for _, k := range cfg.TrustedKeys {
		if seen[k.ID()] {
			return nil, fmt.Errorf("integrity: trusted key %s listed twice (it would count twice toward the threshold)", k.ID())
		}
		seen[k.ID()] = true
	}
	if cfg.Floor == nil || cfg.Recorder == nil {
		return nil, errors.New("integrity: Floor and Recorder are required")
	}
	if cfg.RehashBudget == 0 {
		cfg.RehashBudget = 0.02
	}
	if cfg.RehashBudget < 0 || cfg.RehashBudget > 1 {
		return nil, fmt.Errorf("integrity: re-hash budget %v out of range (0, 1]", cfg.RehashBudget)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Checker{cfg: cfg, log: log, findings: map[string]Finding{}, stop: make(chan struct{})}, nil
}

// Verified returns the accepted manifest, or nil if VerifyBoot has not
// accepted one.
func (c *Checker) Verified() *Verified {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.verified
}

// Findings returns the critical and other findings reported so far (boot
// and run time), one per path and kind.
func (c *Checker) Findings() []Finding {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Finding, 0, len(c.findings))
	for _, f := range c.findings {
		out = append(out, f)
	}
	return out
}

// VerifyBoot verifies the signed manifest (trusted keys, threshold,
// security-version floor) and then every file of the software root. It
// records an event for every problem, tells the Device when the device is
// not suitable, and returns the report. The error is a *SecurityError when
// the manifest or the software is not trustworthy, another error when the
// check could not run; either way nothing from the root may be started.
//
// IEC 62443-4-2 CR 3.14: integrity of the boot process.
func (c *Checker) VerifyBoot(ctx context.Context) (Report, error) {
	start := c.cfg.Now()
	// The resolved root is used from here on by the monitor and for exec
	// (VerifyBoot runs before Run and OpenExecutable by contract).
	if r, err := resolveRoot(c.cfg.Root); err == nil {
		c.cfg.Root = r
	}
	v, err := c.openManifest(ctx)
	if err != nil {
		c.refuseManifest(ctx, err)
		return Report{Started: start}, err
	}
	rep, err := Verify(ctx, c.cfg.Root, v.Manifest, VerifyOptions{Workers: c.cfg.Workers, Now: c.cfg.Now})
	rep.Signers = v.Signers
	if err != nil {
		c.refuseManifest(ctx, err)
		return rep, err
	}
	c.reportFindings(ctx, rep.Findings)
	if f, bad := rep.FirstCritical(); bad {
		return rep, &SecurityError{Reason: ReasonTampered, Msg: f.Cause()}
	}
	if err := c.cfg.Floor.Raise(ctx, v.Manifest.SecurityVersion); err != nil {
		c.refuseManifest(ctx, err)
		return rep, fmt.Errorf("raise security-version floor: %w", err)
	}
	c.mu.Lock()
	c.verified = v
	c.mu.Unlock()
	c.record(ctx, eventlog.Event{Code: "integrity.boot.verified", Severity: eventlog.SeverityInfo,
		Message: fmt.Sprintf("software %s %s (security version %d) verified: %d files, %d bytes in %v",
			rep.Product, rep.Version, rep.SecurityVersion, rep.Files, rep.Bytes, time.Duration(rep.Duration).Round(time.Millisecond)),
		Fields: map[string]string{"signers": fmt.Sprint(v.Signers), "findings": fmt.Sprint(len(rep.Findings))}})
	return rep, nil
}

// openManifest reads and verifies the signed manifest and checks the floor.
func (c *Checker) openManifest(ctx context.Context) (*Verified, error) {
	data, err := readLimited(c.cfg.ManifestFile, MaxEnvelopeSize)
	if err != nil {
		return nil, err
	}
	v, err := OpenEnvelope(ctx, data, c.cfg.TrustedKeys, c.cfg.Threshold)
	if err != nil {
		return nil, err
	}
	floor, err := c.cfg.Floor.Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("read security-version floor: %w", err)
	}
	if v.Manifest.SecurityVersion < floor {
		// IEC 62443-4-2 CR 3.4: no rollback to a release with known
		// vulnerabilities.
		return nil, securityf(ReasonRollback, "manifest %s %s has security version %d, below the accepted floor %d",
			v.Manifest.Product, v.Manifest.Version, v.Manifest.SecurityVersion, floor)
	}
	return v, nil
}

func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, securityf(ReasonBadSignature, "manifest %s exceeds %d bytes", name, limit)
	}
	return data, nil
}

// Close stops Run. It is safe to call more than once.
func (c *Checker) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.stop)
	}
	return nil
}
