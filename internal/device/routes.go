package device

import (
	"net/http"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/api"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/integrity"
	"github.com/medguard/medguard/internal/supervisor"
)

// mountRoutes adds the daemon's own routes to the HTTPS API: the Security
// Event Log query and the software status, with their console pages.
func (d *Device) mountRoutes() error {
	for _, r := range []struct {
		method, pattern string
		perm            auth.Permission
		h               http.HandlerFunc
		page            *api.ConsolePage
	}{
		{"GET", "/v1/logs", auth.PermLogsRead, d.getLogs,
			&api.ConsolePage{ID: "logs", Title: "Security event log", Endpoint: "/v1/logs", Perm: auth.PermLogsRead}},
		{"GET", "/v1/software", auth.PermStatusRead, d.getSoftware,
			&api.ConsolePage{ID: "software", Title: "Software integrity", Endpoint: "/v1/software", Perm: auth.PermStatusRead}},
		{"GET", "/v1/notifications/{$}", auth.PermNotificationsRead, nil,
			&api.ConsolePage{ID: "notifications", Title: "Notifications", Endpoint: "/v1/notifications/", Perm: auth.PermNotificationsRead}},
	} {
		if r.h != nil {
			if err := d.api.Handle(r.method, r.pattern, r.perm, r.h); err != nil {
				return err
			}
		}
		if r.page != nil {
			if err := d.api.AddConsolePage(*r.page); err != nil {
				return err
			}
		}
	}
	return nil
}

// logsPage is the answer of GET /v1/logs.
type logsPage struct {
	Records []eventlog.Record `json:"records"`
	Next    string            `json:"next,omitempty"`
}

// getLogs answers GET /v1/logs: events newest first, filtered by the query
// parameters from, to (sequence numbers), since, until (RFC 3339),
// category (repeatable), severity (the most verbose wanted, e.g. warning),
// actor, limit (1 to 1000) and cursor (the previous page's next).
func (d *Device) getLogs(w http.ResponseWriter, r *http.Request) {
	q, err := logQuery(r)
	if err != nil {
		api.WriteError(w, err)
		return
	}
	p, err := d.log.Query(q)
	if err != nil {
		api.WriteError(w, api.Errorf(http.StatusBadRequest, "bad_request", "query the event log: %v", err))
		return
	}
	api.WriteJSON(w, http.StatusOK, logsPage{Records: p.Records, Next: p.Next})
}

func logQuery(r *http.Request) (eventlog.Query, error) {
	var q eventlog.Query
	v := r.URL.Query()
	bad := func(name, why string) error {
		return api.Errorf(http.StatusBadRequest, "bad_request", "query parameter %s: %s", name, why)
	}
	for _, name := range []string{"from", "to", "limit"} {
		s := v.Get(name)
		if s == "" {
			continue
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return q, bad(name, "want a non-negative integer")
		}
		switch name {
		case "from":
			q.FromSeq = n
		case "to":
			q.ToSeq = n
		case "limit":
			if n < 1 || n > 1000 {
				return q, bad(name, "want 1 to 1000")
			}
			q.Limit = int(n)
		}
	}
	for _, name := range []string{"since", "until"} {
		s := v.Get(name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return q, bad(name, "want an RFC 3339 time such as 2026-12-03T10:00:00Z")
		}
		if name == "since" {
			q.Since = t
		} else {
			q.Until = t
		}
	}
	for _, c := range v["category"] {
		cat := eventlog.Category(c)
		if !cat.Valid() {
			return q, bad("category", strconv.Quote(clip(c))+" is not a category")
		}
		q.Categories = append(q.Categories, cat)
	}
	if s := v.Get("severity"); s != "" {
		sev, err := eventlog.ParseSeverity(s)
		if err != nil {
			return q, bad("severity", err.Error())
		}
		q.MaxSeverity = &sev
	}
	if len(v.Get("actor")) > 256 || len(v.Get("cursor")) > 256 {
		return q, bad("actor or cursor", "longer than 256 bytes")
	}
	q.Actor, q.Cursor = v.Get("actor"), v.Get("cursor")
	return q, nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// softwareStatus is the answer of GET /v1/software.
type softwareStatus struct {
	Verified bool                `json:"verified"`
	Root     string              `json:"root"`
	Findings []integrity.Finding `json:"findings"`
	Rehash   *integrity.Stats    `json:"rehash,omitempty"`
	Programs []supervisor.Status `json:"programs"`
}

// getSoftware answers GET /v1/software: whether the software root
// verified at boot, every finding since, the continuous re-hash's progress
// and the supervised programs.
func (d *Device) getSoftware(w http.ResponseWriter, _ *http.Request) {
	st := softwareStatus{Verified: d.softwareOK, Root: d.cfg.Config.Integrity.SoftwareRoot,
		Findings: []integrity.Finding{}, Programs: []supervisor.Status{}}
	if d.integrity != nil {
		st.Findings = append(st.Findings, d.integrity.Findings()...)
		s := d.integrity.Stats()
		st.Rehash = &s
	}
	if d.supervisor != nil {
		st.Programs = append(st.Programs, d.supervisor.Status()...)
	}
	api.WriteJSON(w, http.StatusOK, st)
}
