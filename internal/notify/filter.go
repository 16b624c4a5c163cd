package notify

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/medguard/medguard/internal/eventlog"
)

// Filter selects notifications from the inbox.
type Filter struct {
	Audience Audience           // "" for any
	Severity *eventlog.Severity // at least this severe; nil for any
	Code     string             // "" for any
	Active   *bool
	Unacked  bool   // only those that need acknowledgement and lack it
	AfterID  uint64 // only IDs > AfterID
	Limit    int    // at most this many, newest first; default 100, at most 1000
}

// ParseFilter reads a Filter from query parameters: audience, severity
// (name or number), code, active (true/false), unacked (true), after
// (an ID), limit.
func ParseFilter(q url.Values) (Filter, error) {
	f := Filter{Limit: 100}
	for k := range q {
		switch k {
		case "audience", "severity", "code", "active", "unacked", "after", "limit":
		default:
			return f, fmt.Errorf("unknown query parameter %q", k)
		}
	}
	if a := q.Get("audience"); a != "" {
		switch Audience(a) {
		case Clinical, Admin, IT:
			f.Audience = Audience(a)
		default:
			return f, fmt.Errorf("audience %q: want clinical, admin or it", a)
		}
	}
	if s := q.Get("severity"); s != "" {
		sev, err := eventlog.ParseSeverity(s)
		if err != nil {
			return f, err
		}
		f.Severity = &sev
	}
	f.Code = q.Get("code")
	if a := q.Get("active"); a != "" {
		b, err := strconv.ParseBool(a)
		if err != nil {
			return f, fmt.Errorf("active %q: want true or false", a)
		}
		f.Active = &b
	}
	if u := q.Get("unacked"); u != "" {
		b, err := strconv.ParseBool(u)
		if err != nil {
			return f, fmt.Errorf("unacked %q: want true or false", u)
		}
		f.Unacked = b
	}
	if a := q.Get("after"); a != "" {
		v, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return f, fmt.Errorf("after %q: want a notification id", a)
		}
		f.AfterID = v
	}
	if l := q.Get("limit"); l != "" {
		v, err := strconv.Atoi(l)
		if err != nil || v < 1 || v > 1000 {
			return f, fmt.Errorf("limit %q: want 1 to 1000", l)
		}
		f.Limit = v
	}
	return f, nil
}

func (f *Filter) match(n *Notification) bool {
	switch {
	case f.Audience != "" && !n.hasAudience(f.Audience):
	case f.Severity != nil && n.Level > *f.Severity:
	case f.Code != "" && n.Code != f.Code:
	case f.Active != nil && n.Active != *f.Active:
	case f.Unacked && (!n.NeedsAck || n.Ack != nil):
	case n.ID <= f.AfterID:
	default:
		return true
	}
	return false
}

// List returns the notifications that f selects, newest first.
func (n *Notifier) List(f Filter) []Notification {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []Notification
	for i := len(n.inbox.order) - 1; i >= 0 && len(out) < f.Limit; i-- {
		if no := n.inbox.byID[n.inbox.order[i]]; f.match(no) {
			out = append(out, no.clone())
		}
	}
	return out
}
