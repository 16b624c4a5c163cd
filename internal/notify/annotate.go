package notify

import (
	"strings"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/forward"
)

// Annotate says which notification e raises, with its cause and
// recommended action, for the messages the forwarder sends to the SIEM
// (forward.Config.Annotate): hospital IT sees what to do next to the event.
// It is safe for concurrent use and does not touch the inbox.
func (n *Notifier) Annotate(e eventlog.Event) (forward.Annotation, bool) {
	if e.Code == AckCode {
		return forward.Annotation{}, false
	}
	k := n.kindOf(e)
	if k == nil || k.Silent {
		return forward.Annotation{}, false
	}
	e.Fields = maskFields(e.Fields)
	aud := make([]string, len(k.Audience))
	for i, a := range k.Audience {
		aud[i] = string(a)
	}
	a := forward.Annotation{Code: k.Code, Title: k.Title, Severity: k.Severity.String(),
		Audience: strings.Join(aud, ","), Cause: render(k.cause, e), Action: render(k.action, e)}
	if k.Change {
		// Issue 6, item 4: old → new values to the SIEM too, masked.
		cs := k.changes(e)
		parts := make([]string, len(cs))
		for i, c := range cs {
			parts[i] = c.What + ": " + c.Old + " → " + c.New
		}
		a.Changes = strings.Join(parts, "; ")
	}
	return a, true
}
