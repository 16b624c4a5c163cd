package notify

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// Markdown renders the catalog as docs/notifications.md.
func Markdown(cat []Kind) []byte {
	var b bytes.Buffer
	b.WriteString(`# Notifications

<!-- Generated from internal/notify/catalog.go by
     go test ./internal/notify -run TestDocsMatchCatalog -update
     Do not edit by hand: a test keeps this file equal to the catalog. -->

Every notification medguard raises, in the order in which an event is
matched: an event raises the first kind that matches it. Each notification
points to the event behind it (its id is the event's sequence number), and
carries a cause filled from that event and the recommended action below.

Audiences: **clinical** — the clinical user at the device's screen (local
status API, ` + "`warnings`" + `); **admin** — the device admin in the web console
(the Notifications page: inbox, live stream, acknowledgement) and with
` + "`medguard notifications list|ack`" + `; **it** — hospital IT, through the SIEM: every event
is forwarded, and the message of an event that raises a notification names
it in the structured-data element ` + "`notification@32473`" + ` (code, title,
severity, audience, cause, action, and for a configuration change the
changed values, old → new, secrets masked).

A notification stays *active* until a later one *resolves* it; a clinical
warning stays on the clinical display while it is active, whether or not it
was acknowledged. Configuration changes list who, when, from where, what,
and old → new values, with secret values masked.

Templates: ` + "`{{because .}}`" + ` is the event's cause (or its message),
` + "`{{field . \"x\"}}`" + ` an event field, ` + "`{{.Actor}}`" + `, ` + "`{{.Source}}`" + ` the
actor and where it acted from.

| code | title | severity | audience | needs ack |
|---|---|---|---|---|
`)
	for _, k := range cat {
		if k.Silent {
			continue
		}
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s | %s | %s |\n", k.Code, anchor(k.Code), k.Title, k.Severity, audiences(k.Audience), yesNo(k.NeedsAck))
	}
	for _, k := range cat {
		fmt.Fprintf(&b, "\n## %s\n\n", k.Code)
		if k.Silent {
			fmt.Fprintf(&b, "Raises no notification: events %s are recorded and forwarded only.\n", codes(k.Events))
			continue
		}
		fmt.Fprintf(&b, "**%s** — severity %s, for %s%s.\n\n", k.Title, k.Severity, audiences(k.Audience), map[bool]string{true: ", needs acknowledgement"}[k.NeedsAck])
		fmt.Fprintf(&b, "- Raised by: %s\n", raisedBy(k))
		fmt.Fprintf(&b, "- Cause: `%s`\n", k.Cause)
		fmt.Fprintf(&b, "- Recommended action: %s\n", k.Action)
		if k.Change {
			b.WriteString("- Configuration change: lists the changed values, old → new (event fields `old.KEY` and `new.KEY`, or `old_KEY` and `KEY`), secrets masked.\n")
		}
		if len(k.Implies) > 0 {
			fmt.Fprintf(&b, "- Changes the event itself means: %s\n", implies(k.Implies))
		}
		if len(k.Resolves) > 0 {
			fmt.Fprintf(&b, "- Resolves: %s\n", codes(k.Resolves))
		}
	}
	return b.Bytes()
}

func raisedBy(k Kind) string {
	var parts []string
	if len(k.Events) > 0 {
		s := "events " + codes(k.Events)
		if len(k.When) > 0 {
			var w []string
			for f, v := range k.When {
				w = append(w, fmt.Sprintf("`%s` = `%s`", f, v))
			}
			s += " with " + strings.Join(w, " and ")
		}
		parts = append(parts, s)
	}
	for _, c := range k.Categories {
		parts = append(parts, fmt.Sprintf("any other event of category `%s`", c))
	}
	if k.MaxSeverity != nil {
		parts = append(parts, fmt.Sprintf("any other event of severity %s or worse", *k.MaxSeverity))
	}
	return strings.Join(parts, "; ")
}

func implies(m map[string]Change) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		c := m[k]
		parts[i] = fmt.Sprintf("`%s`: %s %s → %s", k, c.What, c.Old, c.New)
	}
	return strings.Join(parts, "; ")
}

func codes(cs []string) string {
	q := make([]string, len(cs))
	for i, c := range cs {
		q[i] = "`" + c + "`"
	}
	return strings.Join(q, ", ")
}

func audiences(as []Audience) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

func anchor(code string) string { return strings.ReplaceAll(code, ".", "") }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
