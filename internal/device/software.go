package device

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/integrity"
	"github.com/medguard/medguard/internal/supervisor"
)

// machineAdapter lets integrity and the supervisor make the device not
// suitable for clinical use (integrity.Device, supervisor.Device).
type machineAdapter struct {
	d *Device
}

// NotSuitable moves the device to not-suitable with the finding's cause
// and recommended action. A second finding while not-suitable is recorded
// too: the clinician and the admin see the latest cause.
func (a machineAdapter) NotSuitable(ctx context.Context, code, cause, action string) {
	cur := a.d.Machine.Current()
	if cur.To == NotSuitable && cur.Cause == cause {
		return
	}
	if _, err := a.d.Machine.Move(context.WithoutCancel(ctx), NotSuitable, cause, action); err != nil {
		a.d.logger.Error("device state", "code", code, "err", err)
	}
}

// openSoftware is boot step 3 of ARCHITECTURE.md: verify the signed
// manifest of the software root and every file it lists. A manifest or
// file that does not verify is not a reason to stop the daemon (the admin
// must still be able to reach the device and read why), but the device
// becomes not-suitable and nothing from the software root is started.
// The step's error is returned only for the boot report; boot goes on.
func (d *Device) openSoftware(ctx context.Context) (string, error) {
	detail, err := d.verifySoftware(ctx)
	if err != nil {
		// VerifyBoot has recorded its findings and told the machine; make
		// sure of the state in any case (no trusted keys, a missing
		// manifest: no finding about a file).
		machineAdapter{d}.NotSuitable(ctx, "integrity.boot.failed",
			"software verification failed: "+err.Error(),
			"Do not use the device for patient care. Reinstall the device's software from a signed release, or call the manufacturer's service.")
		return "", err
	}
	d.softwareOK = true
	return detail, nil
}

func (d *Device) verifySoftware(ctx context.Context) (string, error) {
	icfg, err := integrity.FromConfig(d.cfg.Config.Integrity)
	if err != nil {
		return "", err
	}
	icfg.Floor = integrity.StateFloor{Store: d.store}
	icfg.Recorder = d.rec
	icfg.Device = machineAdapter{d}
	icfg.Logger = d.logger.With("part", "integrity")
	icfg.Now = d.now
	ck, err := integrity.New(icfg)
	if err != nil {
		return "", err
	}
	d.integrity = ck
	d.onClose(ck.Close)
	rep, err := ck.VerifyBoot(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %s (security version %d): %d files, %d bytes verified", rep.Product, rep.Version, rep.SecurityVersion, rep.Files, rep.Bytes), nil
}

// runSoftware starts the run-time integrity monitor and, when the boot
// verification passed, the supervisor with the clinical application. Their
// failures make the device not suitable; they never stop the daemon, which
// must stay reachable for the admin.
func (d *Device) runSoftware(ctx context.Context, g *errgroup.Group) {
	if d.integrity == nil {
		return
	}
	ck := d.integrity
	g.Go(func() error {
		if err := ck.Run(ctx); err != nil && ctx.Err() == nil {
			d.record(ctx, eventlog.Event{
				Code: "integrity.monitor.failed", Category: eventlog.CategoryIntegrity, Severity: eventlog.SeverityCritical,
				Actor: "system", Source: "integrity", Message: "the run-time integrity monitor stopped",
				Cause:  err.Error(),
				Action: "restart the device; if it persists, call the manufacturer's service",
			})
			machineAdapter{d}.NotSuitable(ctx, "integrity.monitor.failed",
				"software integrity is no longer checked while running: "+err.Error(),
				"Restart the device. If this persists, stop using it for patient care and call the manufacturer's service.")
		}
		return nil
	})
	if !d.softwareOK {
		d.logger.Warn("software did not verify: the clinical application is not started")
		return
	}
	sup, err := supervisor.New(supervisor.Config{
		Verifier:     ck,
		ProgramsFile: d.cfg.Config.Integrity.Programs,
		Recorder:     d.rec,
		Device:       machineAdapter{d},
		Logger:       d.logger.With("part", "supervisor"),
		Stdout:       os.Stderr,
		Stderr:       os.Stderr,
	})
	if err != nil {
		d.logger.Error("supervisor", "err", err)
		machineAdapter{d}.NotSuitable(ctx, "software.supervisor.failed", "the clinical application cannot be started: "+err.Error(),
			"Stop using the device for patient care and call the manufacturer's service.")
		return
	}
	d.supervisor = sup
	g.Go(func() error {
		if err := sup.Run(ctx); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
			d.logger.Error("supervisor stopped", "err", err)
			machineAdapter{d}.NotSuitable(ctx, "software.supervisor.failed", "the clinical application cannot run: "+err.Error(),
				"Stop using the device for patient care and call the manufacturer's service.")
		}
		return nil
	})
}
