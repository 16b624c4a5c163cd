package api

import (
	"net/http"
	"time"

	"github.com/medguard/medguard/internal/auth"
)

// StatusSource gives the device's current status. The device lifecycle
// (internal/device) implements it; Status must be cheap and must not block.
type StatusSource interface {
	Status() DeviceStatus
}

// DeviceStatus is the device's state with its active warnings.
type DeviceStatus struct {
	// Device is the device's name.
	Device string `json:"device"`
	// State is one of booting, provisioning, operational, degraded,
	// not-suitable, recovery (ARCHITECTURE.md, "Device states").
	State string `json:"state"`
	// Since is when the device entered State.
	Since time.Time `json:"since"`
	// Cause says why the device is in State (empty when operational).
	Cause string `json:"cause"`
	// Warnings are the active warnings, most severe first.
	Warnings []Warning `json:"warnings"`
	// Boot is the report of the last boot's checks: any JSON-able value.
	// It is shown only to authenticated callers on the HTTPS API.
	Boot any `json:"boot,omitempty"`
}

// Warning is one active warning.
type Warning struct {
	Code     string    `json:"code"`
	Severity string    `json:"severity"` // "critical", "warning", "info"
	Title    string    `json:"title"`
	Cause    string    `json:"cause"`
	Action   string    `json:"action"`
	Since    time.Time `json:"since"`
}

// localStatus is the local API's answer: DeviceStatus without the boot
// report (the contract of the clinical application).
type localStatus struct {
	Device   string    `json:"device"`
	State    string    `json:"state"`
	Since    time.Time `json:"since"`
	Cause    string    `json:"cause"`
	Warnings []Warning `json:"warnings"`
}

func toLocal(d DeviceStatus) localStatus {
	if d.Warnings == nil {
		d.Warnings = []Warning{}
	}
	return localStatus{Device: d.Device, State: d.State, Since: d.Since.UTC(), Cause: d.Cause, Warnings: d.Warnings}
}

// publicStatus is all an anonymous caller learns.
type publicStatus struct {
	State       string `json:"state"`
	Provisioned bool   `json:"provisioned"`
}

// getStatus: anonymous callers get the state and whether the device is
// provisioned; callers with status.read get everything.
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) error {
	st := s.cfg.Status.Status()
	p := PrincipalFrom(r.Context())
	if p == nil || !p.Role.Allows(auth.PermStatusRead) {
		writeJSON(w, http.StatusOK, publicStatus{State: st.State, Provisioned: s.cfg.Auth.Provisioned()})
		return nil
	}
	if st.Warnings == nil {
		st.Warnings = []Warning{}
	}
	st.Since = st.Since.UTC()
	writeJSON(w, http.StatusOK, struct {
		DeviceStatus
		Provisioned bool `json:"provisioned"`
	}{st, s.cfg.Auth.Provisioned()})
	return nil
}
