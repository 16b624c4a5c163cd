package integrity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// maxFindingEvents bounds the events of one verification; the rest are
// summarised in one event.
const maxFindingEvents = 100

// Recommended actions, for the admin.
const (
	actionTampered = "Do not use the device clinically. Restore the software from a release signed by the maker (recovery), then find out how the file was changed."
	actionUnlisted = "Find out where the file came from and remove it; restore the software from a signed release if in doubt."
	actionManifest = "Do not use the device clinically. Reinstall a release signed by the maker with the current security version; contact the maker's product-security team."
)

func (c *Checker) record(ctx context.Context, e eventlog.Event) {
	e.Category = eventlog.CategoryIntegrity
	if e.Actor == "" {
		e.Actor = "system"
	}
	if e.Source == "" {
		e.Source = "integrity"
	}
	if _, err := c.cfg.Recorder.Record(ctx, e); err != nil {
		c.log.Error("record security event", "code", e.Code, "err", err)
	}
}

// refuseManifest reports that the software could not be verified.
func (c *Checker) refuseManifest(ctx context.Context, err error) {
	code, cause := "integrity.manifest.unreadable", "software integrity: the signed manifest could not be checked: "+err.Error()
	var se *SecurityError
	if errors.As(err, &se) {
		code, cause = "integrity.manifest."+string(se.Reason), "software integrity: "+se.Msg
	}
	c.record(ctx, eventlog.Event{Code: code, Severity: eventlog.SeverityCritical,
		Message: "software manifest refused; no software from the root is started", Cause: cause, Action: actionManifest,
		Fields: map[string]string{"manifest": c.cfg.ManifestFile, "error": err.Error()}})
	c.notSuitable(ctx, code, cause, actionManifest)
}

func (c *Checker) notSuitable(ctx context.Context, code, cause, action string) {
	c.log.Warn("device not suitable", "code", code, "cause", cause)
	if c.cfg.Device != nil {
		c.cfg.Device.NotSuitable(ctx, code, cause, action)
	}
}

// reportFindings records new findings (one event per path and kind) and
// makes the device not suitable on a critical one. It returns how many were
// new.
func (c *Checker) reportFindings(ctx context.Context, fs []Finding) int {
	var fresh []Finding
	c.mu.Lock()
	for _, f := range fs {
		k := string(f.Kind) + "\x00" + f.Path
		if _, dup := c.findings[k]; !dup {
			c.findings[k] = f
			fresh = append(fresh, f)
		}
	}
	c.mu.Unlock()
	for i, f := range fresh {
		if i == maxFindingEvents {
			c.record(ctx, eventlog.Event{Code: "integrity.findings.truncated", Severity: eventlog.SeverityCritical,
				Message: fmt.Sprintf("%d more integrity findings not recorded one by one", len(fresh)-i),
				Cause:   "software integrity: many files differ from the signed manifest", Action: actionTampered})
			break
		}
		c.record(ctx, findingEvent(f))
	}
	for _, f := range fresh {
		if f.Critical() {
			c.notSuitable(ctx, f.Code(), f.Cause(), actionTampered)
			break
		}
	}
	return len(fresh)
}

func findingEvent(f Finding) eventlog.Event {
	action := actionTampered
	if !f.Critical() {
		action = actionUnlisted
	}
	fields := map[string]string{"path": f.Path, "via": f.Via, "detected": f.Detected.Format(time.RFC3339Nano)}
	if f.FileKind != "" {
		fields["file_kind"] = string(f.FileKind)
	}
	if !f.Changed.IsZero() {
		fields["changed"] = f.Changed.Format(time.RFC3339Nano)
		fields["latency"] = f.Detected.Sub(f.Changed).String()
	}
	return eventlog.Event{Code: f.Code(), Severity: f.Severity(),
		Message: fmt.Sprintf("%s %s (found by %s)", f.Path, describe(f.Kind), f.Via),
		Cause:   f.Cause(), Action: action, Fields: fields}
}

// rootGone reports (once) that the software root itself cannot be opened.
func (c *Checker) rootGone(ctx context.Context, err error) {
	c.reportFindings(ctx, []Finding{{Kind: FindingMissing, Path: ".", Detail: "the software root cannot be opened: " + err.Error(),
		Detected: c.cfg.Now().UTC(), Via: "monitor"}})
}
