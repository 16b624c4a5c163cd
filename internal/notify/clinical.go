package notify

import (
	"sort"
	"time"
)

// Warning is an active clinical warning, in the shape of the local status
// API (GET /v1/local/status, "warnings"), which the clinical application
// shows on its display.
type Warning struct {
	Code     string    `json:"code"`
	Severity string    `json:"severity"`
	Title    string    `json:"title"`
	Cause    string    `json:"cause"`
	Action   string    `json:"action"`
	Since    time.Time `json:"since"`
}

// ClinicalWarnings returns the active notifications for the clinical
// user, most severe first, then oldest first. A warning is active from the
// event that raised it until an event resolves it; acknowledging it in the
// console does not remove it from the clinical display.
func (n *Notifier) ClinicalWarnings() []Warning {
	n.mu.Lock()
	defer n.mu.Unlock()
	type w struct {
		Warning
		level int
	}
	var ws []w
	for _, id := range n.inbox.order {
		no := n.inbox.byID[id]
		if no.Active && no.hasAudience(Clinical) {
			ws = append(ws, w{Warning{Code: no.Code, Severity: no.Severity, Title: no.Title,
				Cause: no.Cause, Action: no.Action, Since: no.Time}, int(no.Level)})
		}
	}
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].level < ws[j].level })
	out := make([]Warning, len(ws))
	for i := range ws {
		out[i] = ws[i].Warning
	}
	return out
}
