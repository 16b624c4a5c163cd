package main

import (
	"embed"
	"encoding/json"
	"net/http"
	"time"
)

//go:embed web
var webFS embed.FS

// Display is what the clinical screen shows; the page renders it as is.
type Display struct {
	// Mode is "ok", "degraded", "not-ready", "not-suitable" or
	// "unreachable"; every mode but ok and degraded covers the screen.
	Mode     string    `json:"mode"`
	Title    string    `json:"title"`
	Cause    string    `json:"cause,omitempty"`
	Action   string    `json:"action,omitempty"`
	Device   string    `json:"device,omitempty"`
	State    string    `json:"state,omitempty"`
	Since    time.Time `json:"since,omitzero"`
	Checked  time.Time `json:"checked,omitzero"`
	Warnings []Warning `json:"warnings,omitempty"`
	Vitals   Vitals    `json:"vitals"`
}

// stale is how old the daemon's last answer may be before the state
// counts as unknown.
const stale = time.Second

// decide turns the poller's observation into what the screen shows. It
// fails safe: no answer, an old answer or an unknown state never shows as
// suitable.
func decide(o Observation, now time.Time) Display {
	d := Display{Device: o.Status.Device, State: o.Status.State, Since: o.Status.Since, Checked: o.Checked, Warnings: o.Status.Warnings}
	if !o.Reachable || now.Sub(o.OKAt) > stale {
		d.Mode, d.Title = "unreachable", "DEVICE STATE UNKNOWN — security monitor not answering"
		d.Cause = "The clinical display cannot reach the device's security core: " + o.Err
		d.Action = "Do not rely on this device until its state is known. Call biomedical engineering."
		d.Device, d.State, d.Warnings = "", "", nil
		return d
	}
	first := firstWarning(o.Status.Warnings)
	switch o.Status.State {
	case "operational":
		d.Mode, d.Title = "ok", "Operational"
	case "degraded":
		d.Mode, d.Title = "degraded", "Operational — an administrator has been notified"
		d.Cause, d.Action = pick(o.Status.Cause, first.Cause), first.Action
	case "booting", "provisioning":
		d.Mode, d.Title = "not-ready", "NOT READY — device is "+o.Status.State
		d.Cause = pick(o.Status.Cause, "The device has not finished starting.")
		d.Action = "Wait, or call biomedical engineering."
	default: // not-suitable, recovery, and any state this display does not know
		d.Mode, d.Title = "not-suitable", "NOT SUITABLE FOR CLINICAL USE"
		d.Cause = pick(o.Status.Cause, first.Cause, "The device reports state "+o.Status.State+".")
		d.Action = pick(first.Action, "Do not use this device for patient care. Use another monitor and call biomedical engineering.")
	}
	return d
}

func firstWarning(ws []Warning) Warning {
	for _, w := range ws {
		if w.Severity == "critical" || w.Severity == "emergency" || w.Severity == "alert" {
			return w
		}
	}
	if len(ws) > 0 {
		return ws[0]
	}
	return Warning{}
}

func pick(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// server is the clinical display: the page and the one JSON endpoint it
// polls.
type server struct {
	poll  *poller
	vital func() Vitals
	now   func() time.Time
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(mustSub(webFS, "web")))
	mux.HandleFunc("GET /api/display", func(w http.ResponseWriter, r *http.Request) {
		d := decide(s.poll.Observation(), s.now())
		d.Vitals = s.vital()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(d)
	})
	return secureHeaders(mux)
}

// secureHeaders: no external assets, no framing, no inline script.
func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}
