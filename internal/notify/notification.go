package notify

import (
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// Notification is one notification, as the inbox, the stream and the SIEM
// show it.
type Notification struct {
	// ID is the sequence number of the event behind the notification.
	ID       uint64            `json:"id"`
	Code     string            `json:"code"`
	Title    string            `json:"title"`
	Severity string            `json:"severity"` // RFC 5424 name
	Level    eventlog.Severity `json:"level"`    // RFC 5424 number
	Audience []Audience        `json:"audience"`
	Cause    string            `json:"cause"`
	Action   string            `json:"action"`
	NeedsAck bool              `json:"needs_ack"`
	// Time is when the event behind it happened.
	Time  time.Time `json:"time"`
	Event EventRef  `json:"event"`
	// Changes lists the changed values of a configuration change, secrets
	// masked.
	Changes []Change `json:"changes,omitempty"`
	// Active is true until a later notification resolves this one.
	Active bool `json:"active"`
	// ResolvedBy is the ID of the notification that resolved it.
	ResolvedBy uint64 `json:"resolved_by,omitempty"`
	// Ack is set once someone acknowledged it.
	Ack *Ack `json:"ack,omitempty"`

	rev uint64 // the inbox revision of its last change
}

// EventRef points to the event behind a notification: who, when (the
// notification's Time), from where, what.
type EventRef struct {
	Seq      uint64            `json:"seq"`
	Code     string            `json:"code"`
	Category eventlog.Category `json:"category"`
	Boot     string            `json:"boot"`
	Actor    string            `json:"actor,omitempty"`
	Source   string            `json:"source,omitempty"`
	Message  string            `json:"message"`
}

// Ack records an acknowledgement.
type Ack struct {
	By      string    `json:"by"`
	Source  string    `json:"source"`
	Comment string    `json:"comment"`
	Time    time.Time `json:"time"`
	// Event is the sequence number of the "notify.acknowledged" event.
	Event uint64 `json:"event"`
}

func (n *Notification) clone() Notification {
	c := *n
	c.Audience = append([]Audience(nil), n.Audience...)
	c.Changes = append([]Change(nil), n.Changes...)
	if n.Ack != nil {
		a := *n.Ack
		c.Ack = &a
	}
	return c
}

func (n *Notification) hasAudience(a Audience) bool {
	for _, x := range n.Audience {
		if x == a {
			return true
		}
	}
	return false
}
