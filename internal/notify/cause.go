package notify

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/medguard/medguard/internal/eventlog"
)

// Templates see the event (with secret fields already masked) and these
// functions:
//
//	field . "name"     the value of an event field, "" if absent
//	because .          the event's cause, or its message if it has none
//	X | fallback "y"   X, or "y" if X is empty
var funcs = template.FuncMap{
	"field": func(e eventlog.Event, name string) string { return e.Fields[name] },
	"because": func(e eventlog.Event) string {
		if e.Cause != "" {
			return e.Cause
		}
		return e.Message
	},
	"fallback": func(def, v string) string {
		if v == "" {
			return def
		}
		return v
	},
}

// compiled is a Kind with its templates parsed.
type compiled struct {
	*Kind
	cause, action *template.Template
}

func compile(k *Kind) (*compiled, error) {
	c := &compiled{Kind: k}
	var err error
	if c.cause, err = template.New(k.Code + ".cause").Funcs(funcs).Option("missingkey=zero").Parse(k.Cause); err != nil {
		return nil, fmt.Errorf("notification %s: cause template: %w", k.Code, err)
	}
	if c.action, err = template.New(k.Code + ".action").Funcs(funcs).Parse(k.Action); err != nil {
		return nil, fmt.Errorf("notification %s: action template: %w", k.Code, err)
	}
	return c, nil
}

// render fills a template from e; a failure gives the template's text with
// the error, so a notification is never lost to a template bug.
func render(t *template.Template, e eventlog.Event) string {
	var b strings.Builder
	if err := t.Execute(&b, e); err != nil {
		return fmt.Sprintf("%s (cause template failed: %v)", e.Message, err)
	}
	return strings.TrimSpace(b.String())
}

// matches reports whether k is raised by e.
func (k *Kind) matches(e eventlog.Event) bool {
	for _, p := range k.Events {
		if codeMatches(p, e.Code) && fieldsMatch(k.When, e.Fields) {
			return true
		}
	}
	for _, c := range k.Categories {
		if e.Category == c {
			return true
		}
	}
	return k.MaxSeverity != nil && e.Severity <= *k.MaxSeverity
}

func codeMatches(pattern, code string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(code, p)
	}
	return pattern == code
}

func fieldsMatch(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// Masked is what a secret value is replaced with.
const Masked = "••••••"

// secretKey matches field names whose values are secrets: the event's
// writer must mask them, and the notifier masks them again in case it did
// not (ARCHITECTURE.md: no secret and no patient data in notifications).
var secretKey = regexp.MustCompile(`(?i)(pass(word|phrase)?|secret|token|credential|private|psk|pin|setup[_.-]?code|(^|[_.-])key$)`)

// policyKey matches the names of settings about a secret that are not
// secret themselves: a length, a lifetime, a timeout ("min_password_length",
// "setup_code_lifetime"). Their values are numbers and durations that the
// admin must see change.
var policyKey = regexp.MustCompile(`(?i)[_.-](length|lifetime|timeout|interval|window)$`)

// isSecretKey reports whether the value of field k is a secret.
func isSecretKey(k string) bool { return secretKey.MatchString(k) && !policyKey.MatchString(k) }

// maskFields returns a copy of f with secret values masked.
func maskFields(f map[string]string) map[string]string {
	if f == nil {
		return nil
	}
	out := make(map[string]string, len(f))
	for k, v := range f {
		if isSecretKey(k) && v != "" {
			v = Masked
		}
		out[k] = v
	}
	return out
}

// Change is one changed value of a configuration change.
type Change struct {
	What string `json:"what"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// changesOf reads the changed values of a configuration-change event.
// Writers put them in fields "old.KEY" and "new.KEY", "old_KEY" and "KEY"
// (auth: "old_role" and "role"), or "old" and "new" with "setting" naming
// what changed; other fields are details and are listed as new values.
// implied is the change that the event's code itself means (Kind.Implies),
// for writers that record no old value (an account disabled, a password
// reset); it is nil if there is none.
func changesOf(f map[string]string, implied *Change) []Change {
	byWhat := map[string]*Change{}
	get := func(w string) *Change {
		if byWhat[w] == nil {
			byWhat[w] = &Change{What: w, Old: "–", New: "–"}
		}
		return byWhat[w]
	}
	if implied != nil {
		c := *implied
		byWhat[c.What] = &c
	}
	for k, v := range f {
		switch {
		case strings.HasPrefix(k, "old."):
			get(k[4:]).Old = v
		case strings.HasPrefix(k, "new."):
			get(k[4:]).New = v
		case strings.HasPrefix(k, "old_") && hasKey(f, k[4:]):
			get(k[4:]).Old = v
		case k == "old":
			get(settingName(f)).Old = v
		case k == "new":
			get(settingName(f)).New = v
		case k == "setting":
		default:
			get(k).New = v
		}
	}
	out := make([]Change, 0, len(byWhat))
	for _, c := range byWhat {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].What < out[j].What })
	return out
}

// changes returns the changed values of e, a configuration change of
// kind k whose fields are already masked.
func (k *Kind) changes(e eventlog.Event) []Change {
	var implied *Change
	if c, ok := k.Implies[e.Code]; ok {
		implied = &c
	}
	return changesOf(e.Fields, implied)
}

func hasKey(f map[string]string, k string) bool { _, ok := f[k]; return ok }

func settingName(f map[string]string) string {
	if s := f["setting"]; s != "" {
		return s
	}
	return "value"
}
