// Package device is the lifecycle of a medguard device: it runs the boot
// checks in order (ARCHITECTURE.md, "Boot sequence"), holds the device state
// machine, wires the parts (key store, event log, state database, API,
// integrity, …) and runs them until the daemon is told to stop.
//
// Every boot check is timed and reported (BootReport); a failed check is a
// security event and stops the boot with one message naming what failed,
// or, where clinical use may be affected, moves the device to
// not-suitable. Every state transition is a security event and is announced
// to subscribers (Machine.Subscribe).
package device

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/medguard/medguard/internal/api"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/forward"
	"github.com/medguard/medguard/internal/integrity"
	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/state"
	"github.com/medguard/medguard/internal/supervisor"
)

// Config is what the daemon passes to New.
type Config struct {
	// Config is the parsed configuration file.
	Config config.Config
	// Logger receives operational logs (not security events).
	Logger *slog.Logger
	// Console receives the device's facts, one "name: value" line each
	// (state-dir, console, setup-code, …), for people and scripts.
	Console io.Writer
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// ShutdownTimeout bounds a graceful shutdown. Default 10 s.
	ShutdownTimeout time.Duration
	// Demo marks a demo device (medguardd --demo).
	Demo bool
	// ClinicalDisplay, if set, is where the clinical application's display
	// is (the demo's vitalsim); printed as a fact.
	ClinicalDisplay string
	// ConfigFile, if set, is the configuration file in use; printed as a
	// fact for the CLI's on-device commands (medguard log verify --config).
	ConfigFile string
}

// Device is a running medguard device.
type Device struct {
	cfg    Config
	now    func() time.Time
	logger *slog.Logger
	bootID string
	rec    *bootRecorder
	// Machine is the device state machine.
	Machine *Machine

	mu     sync.Mutex // guards report and closers
	report BootReport
	// closers run in reverse order on Close.
	closers []func() error

	keys    *keystore.Store
	log     *eventlog.Log
	store   state.Store
	auth    *auth.Auth
	api     *api.Server
	notify  *notify.Notifier
	forward *forward.Forwarder
	// integrity verifies the software root; supervisor runs the clinical
	// application from it, only when softwareOK (the boot verification
	// passed).
	integrity  *integrity.Checker
	supervisor *supervisor.Supervisor
	softwareOK bool
	// apiAddr is the HTTPS API's listening address.
	apiAddr string
	// onLogFailure are told when the event log fails (set before boot).
	onLogFailure []func(error)

	consoleMu sync.Mutex // serialises console lines
}

// New checks cfg and returns a Device in state booting. Nothing is opened
// or written before Run.
func New(cfg Config) (*Device, error) {
	if err := cfg.Config.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Console == nil {
		cfg.Console = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	d := &Device{cfg: cfg, now: cfg.Now, logger: cfg.Logger, bootID: hex.EncodeToString(id)}
	d.rec = &bootRecorder{logger: cfg.Logger}
	d.Machine = NewMachine(d.rec, cfg.Now)
	return d, nil
}

// BootID identifies this boot of the daemon.
func (d *Device) BootID() string { return d.bootID }

// Report returns a copy of the boot report.
func (d *Device) Report() BootReport {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.report
	r.Checks = append([]Check(nil), r.Checks...)
	return r
}

// fact prints one "name: value" line on the console.
func (d *Device) fact(name, value string) {
	d.consoleMu.Lock()
	defer d.consoleMu.Unlock()
	fmt.Fprintf(d.cfg.Console, "%s: %s\n", name, value)
}

// Run boots the device and runs it until ctx is done, then shuts down
// gracefully. A failed boot check that makes the device unusable returns
// its error.
func (d *Device) Run(ctx context.Context) error {
	defer d.Close()
	g, gctx := errgroup.WithContext(ctx)
	if err := d.boot(gctx, g); err != nil {
		return err
	}
	<-gctx.Done()
	d.logger.Info("shutting down")
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	case <-time.After(d.cfg.ShutdownTimeout):
		return fmt.Errorf("shutdown: parts still running after %s", d.cfg.ShutdownTimeout)
	}
}

// boot runs the boot checks in order and starts the parts in g.
func (d *Device) boot(ctx context.Context, g *errgroup.Group) error {
	dc := d.cfg.Config
	d.mu.Lock()
	d.report = BootReport{BootID: d.bootID, Started: d.now().UTC()}
	d.mu.Unlock()
	step := func(name string, fn func(context.Context) (string, error)) error {
		d.mu.Lock()
		err := d.report.step(ctx, d.now, name, fn)
		d.mu.Unlock()
		if err != nil {
			// Into the event log if it is open already; into the
			// operational log in any case.
			d.record(ctx, eventlog.Event{
				Code: "device.boot.failed", Category: eventlog.CategorySystem, Severity: eventlog.SeverityCritical,
				Actor: "system", Source: "device", Message: "boot check " + name + " failed; the device did not start",
				Cause:  err.Error(),
				Action: "read the cause; restore the named file from a backup or re-provision the device; call the manufacturer's service if it persists",
				Fields: map[string]string{"check": name},
			})
		}
		return err
	}
	if err := step("state-dir", func(context.Context) (string, error) { return checkStateDir(dc.Device.StateDir) }); err != nil {
		return err
	}
	d.fact("state-dir", dc.Device.StateDir)
	if d.cfg.ConfigFile != "" {
		d.fact("config", d.cfg.ConfigFile)
	}
	if err := step("keystore", d.openKeyStore); err != nil {
		return err
	}
	if err := step("event-log", d.openLog); err != nil {
		return err
	}
	if err := step("state-database", d.openState); err != nil {
		return err
	}
	if err := step("settings", d.checkSettings); err != nil {
		return err
	}
	// Software that does not verify makes the device not suitable, but the
	// boot goes on: the admin must be able to reach the device and read
	// why. Nothing from the software root is started.
	d.mu.Lock()
	if err := d.report.step(ctx, d.now, "software", d.openSoftware); err != nil {
		d.logger.Error("software verification failed: the device is not suitable for clinical use", "err", err)
	}
	d.mu.Unlock()
	if err := step("listeners", d.openAccess); err != nil {
		return err
	}
	if err := step("notifications", d.openNotify); err != nil {
		return err
	}
	d.mu.Lock()
	d.report.Finished = d.now().UTC()
	d.mu.Unlock()
	next, why := Operational, "boot checks passed"
	if !d.auth.Provisioned() {
		next, why = Provisioning, "no admin account exists yet: enter the setup code to provision the device"
	}
	if d.Machine.State() == NotSuitable {
		// A boot check made it not suitable; it stays so.
		next = NotSuitable
	} else if _, err := d.Machine.Move(ctx, next, why, ""); err != nil {
		d.logger.Error("record state change", "err", err)
	}
	d.runSoftware(ctx, g) // sets d.supervisor before the API serves it
	d.runAccess(ctx, g)
	d.runNotify(ctx, g)
	d.fact("console", d.consoleURL())
	if ci, err := d.keys.CertificateInfo(); err == nil {
		// As the CLI shows it when it pins the certificate on first use,
		// so that a person can compare the two at a glance.
		d.fact("tls-sha256", colonHex(ci.SHA256))
	}
	d.fact("local-socket", dc.API.Socket)
	d.fact("software-root", dc.Integrity.SoftwareRoot)
	if d.cfg.ClinicalDisplay != "" && d.softwareOK {
		d.fact("clinical-display", d.cfg.ClinicalDisplay)
	}
	d.fact("boot-id", d.bootID)
	d.fact("state", string(next))
	// The boot's transient allocations (hashing the software root, the
	// log's verification, the password blocklist's set-up) are garbage now;
	// give their memory back to a small device instead of keeping it until
	// the runtime's scavenger gets to it minutes later.
	debug.FreeOSMemory()
	return nil
}

// checkStateDir refuses a missing state directory or one that others can
// read: it holds the device's sealed keys and its event log.
func checkStateDir(dir string) (string, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("state directory %s does not exist: create it (mode 0700, owned by the daemon's user) or pass --state-dir", dir)
	}
	if err != nil {
		return "", fmt.Errorf("state directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("state directory %s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("state directory %s has mode %04o: others may read the device's keys and log; set it to 0700", dir, fi.Mode().Perm())
	}
	return dir, nil
}

func (d *Device) openState(context.Context) (string, error) {
	p := filepath.Join(d.cfg.Config.Device.StateDir, "state.db")
	dk, err := d.openDataKey(p)
	if err != nil {
		return "", err
	}
	defer dk.Zero()
	s, err := state.OpenBolt(p, dk)
	if err != nil {
		return "", err
	}
	d.store = s
	d.onClose(s.Close)
	v, _ := s.SchemaVersion()
	return fmt.Sprintf("%s (schema %d)", p, v), nil
}

func (d *Device) onClose(f func() error) {
	d.closers = append(d.closers, f)
}

// Close releases everything Run opened, in reverse order. It is safe to
// call more than once.
func (d *Device) Close() error {
	d.rec.detach()
	d.mu.Lock()
	cs := d.closers
	d.closers = nil
	d.mu.Unlock()
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		errs = append(errs, cs[i]())
	}
	return errors.Join(errs...)
}

// record writes a security event through the device's recorder.
func (d *Device) record(ctx context.Context, e eventlog.Event) {
	if _, err := d.rec.Record(ctx, e); err != nil {
		d.logger.Error("record security event", "code", e.Code, "err", err)
	}
}

// colonHex writes a hex fingerprint as upper-case byte pairs separated by
// colons ("2F:19:…").
func colonHex(h string) string {
	var b strings.Builder
	for i := 0; i+1 < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.ToUpper(h[i : i+2]))
	}
	return b.String()
}
