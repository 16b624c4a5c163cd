package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

func newTestNotifier(t *testing.T, log *memLog) *Notifier {
	t.Helper()
	n, err := New(Config{Source: log, Recorder: log, InboxSize: 100, ReplayEvents: 1000,
		Identify: func(*http.Request, bool) (Identity, error) { return Identity{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// record writes e to log and hands it to n, as Run would.
func record(t *testing.T, log *memLog, n *Notifier, e eventlog.Event) uint64 {
	t.Helper()
	seq, err := log.Record(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	n.Handle(log.all()[seq-1])
	return seq
}

func stateEvent(to string) eventlog.Event {
	return eventlog.Event{Code: "device.state.changed", Category: eventlog.CategorySystem, Severity: eventlog.SeverityNotice,
		Actor: "system", Source: "device", Message: "The device state changed to " + to + ".",
		Cause: "cause of " + to, Fields: map[string]string{"to": to}}
}

func TestCatalogMatching(t *testing.T) {
	n := newTestNotifier(t, newMemLog())
	tests := []struct {
		ev   eventlog.Event
		want string // "" for no notification
	}{
		{stateEvent("not-suitable"), "device.not-suitable"},
		{stateEvent("degraded"), "device.degraded"},
		{stateEvent("recovery"), "device.recovery"},
		{stateEvent("operational"), "device.operational"},
		{stateEvent("provisioning"), "device.provisioning"},
		{stateEvent("booting"), "device.state.other"},
		{eventlog.Event{Code: "integrity.file.changed", Category: eventlog.CategoryIntegrity, Severity: eventlog.SeverityCritical}, "integrity.software.changed"},
		{eventlog.Event{Code: "integrity.manifest.bad-signature", Category: eventlog.CategoryIntegrity, Severity: eventlog.SeverityCritical}, "integrity.manifest.invalid"},
		{eventlog.Event{Code: "supervisor.program.gave-up", Category: eventlog.CategorySoftware, Severity: eventlog.SeverityCritical}, "clinical.app.stopped"},
		{eventlog.Event{Code: "auth.login.failed", Category: eventlog.CategoryAuth, Severity: eventlog.SeverityWarning}, ""},
		{eventlog.Event{Code: "auth.login.throttled", Category: eventlog.CategoryAuth, Severity: eventlog.SeverityWarning}, "auth.guessing"},
		{eventlog.Event{Code: "auth.user.created", Category: eventlog.CategoryAuth, Severity: eventlog.SeverityNotice}, "config.change.users"},
		{eventlog.Event{Code: "network.allowlist.changed", Category: eventlog.CategoryNetwork, Severity: eventlog.SeverityNotice}, "config.change.network"},
		{eventlog.Event{Code: "config.clinical.imported", Category: eventlog.CategoryConfig, Severity: eventlog.SeverityNotice}, "config.change.clinical"},
		{eventlog.Event{Code: "something.else", Category: eventlog.CategoryConfig, Severity: eventlog.SeverityInfo}, "config.change.settings"},
		{eventlog.Event{Code: "forward.destination.unreachable", Category: eventlog.CategoryLog, Severity: eventlog.SeverityWarning}, "siem.unreachable"},
		{eventlog.Event{Code: "log.checkpoint", Category: eventlog.CategoryLog, Severity: eventlog.SeverityInfo}, ""},
		{eventlog.Event{Code: "auth.login.succeeded", Category: eventlog.CategoryAuth, Severity: eventlog.SeverityInfo}, ""},
		{eventlog.Event{Code: "log.truncation.detected", Category: eventlog.CategoryLog, Severity: eventlog.SeverityCritical}, "log.tampered"},
		{eventlog.Event{Code: "log.full", Category: eventlog.CategoryLog, Severity: eventlog.SeverityCritical}, "log.full"},
		{eventlog.Event{Code: "log.capacity.warning", Category: eventlog.CategoryLog, Severity: eventlog.SeverityWarning}, "log.capacity"},
		{eventlog.Event{Code: "network.port.scan", Category: eventlog.CategoryNetwork, Severity: eventlog.SeverityWarning}, "network.scan"},
		{eventlog.Event{Code: "device.boot.failed", Category: eventlog.CategorySystem, Severity: eventlog.SeverityCritical}, "device.boot.failed"},
		{eventlog.Event{Code: "auth.login.failed", Category: eventlog.CategoryAuth, Severity: eventlog.SeverityWarning,
			Fields: map[string]string{"coalesced": "9990", "coalesced_first": "2026-12-03T10:00:00Z", "coalesced_last": "2026-12-03T10:00:01Z"}}, "log.flood"},
		{eventlog.Event{Code: "integrity.file.changed", Category: eventlog.CategoryIntegrity, Severity: eventlog.SeverityCritical,
			Fields: map[string]string{"coalesced": "12", "path": "bin/x"}}, "integrity.software.changed"},
		{eventlog.Event{Code: "unknown.disaster", Category: eventlog.CategorySystem, Severity: eventlog.SeverityError, Action: "Call the maker."}, "security.event"},
	}
	for _, tt := range tests {
		k := n.kindOf(tt.ev)
		got := ""
		if k != nil && !k.Silent {
			got = k.Code
		}
		if got != tt.want {
			t.Errorf("event %s (to=%s): notification %q, want %q", tt.ev.Code, tt.ev.Fields["to"], got, tt.want)
		}
	}
}

func TestEveryKindRendersAndActs(t *testing.T) {
	ev := eventlog.Event{Seq: 9, Code: "x.y", Category: eventlog.CategorySystem, Severity: eventlog.SeverityError,
		Actor: "alice", Source: "10.0.0.5:443", Message: "msg", Cause: "because",
		Fields: map[string]string{"path": "/usr/bin/x", "destination": "siem", "address": "a:1", "from": "1", "to": "2"}}
	kinds, err := compileCatalog(Catalog)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		if k.Silent {
			continue
		}
		cause, action := render(k.cause, ev), render(k.action, ev)
		if cause == "" || strings.Contains(cause, "template failed") || strings.Contains(cause, "<no value>") {
			t.Errorf("%s: cause renders as %q", k.Code, cause)
		}
		if len(action) < 5 || strings.Contains(action, "template failed") {
			t.Errorf("%s: action renders as %q", k.Code, action)
		}
		if k.Title == "" || len(k.Audience) == 0 || !k.Severity.Valid() {
			t.Errorf("%s: lacks title, audience or severity", k.Code)
		}
		if k.NeedsAck && strings.HasPrefix(action, "None") {
			t.Errorf("%s needs acknowledgement but recommends no action", k.Code)
		}
		for _, a := range k.Audience {
			if a == Clinical && k.Severity <= eventlog.SeverityCritical && !strings.HasPrefix(action, doNotUse) {
				t.Errorf("%s: a critical clinical warning must start with %q", k.Code, doNotUse)
			}
		}
	}
}

func TestCatalogRefusesBadTemplatesAndDuplicates(t *testing.T) {
	if _, err := compileCatalog([]Kind{{Code: "a", Cause: "{{.Nope"}}); err == nil {
		t.Error("broken template accepted")
	}
	if _, err := compileCatalog([]Kind{{Code: "a"}, {Code: "a"}}); err == nil {
		t.Error("duplicate code accepted")
	}
}

func TestClinicalWarningLifecycle(t *testing.T) {
	log := newMemLog()
	n := newTestNotifier(t, log)
	record(t, log, n, stateEvent("operational"))
	if w := n.ClinicalWarnings(); len(w) != 0 {
		t.Fatalf("warnings while operational: %+v", w)
	}
	seq := record(t, log, n, stateEvent("not-suitable"))
	w := n.ClinicalWarnings()
	if len(w) != 1 || w[0].Code != "device.not-suitable" || w[0].Cause != "cause of not-suitable" ||
		!strings.HasPrefix(w[0].Action, "Do not use this device") || w[0].Since.IsZero() || w[0].Severity != "alert" {
		t.Fatalf("warnings = %+v", w)
	}
	// Acknowledging in the console does not take it off the clinical screen.
	if _, err := n.Acknowledge(context.Background(), seq, Identity{User: "bob", Source: "10.0.0.9:5555"}, "seen, replacing device"); err != nil {
		t.Fatal(err)
	}
	if len(n.ClinicalWarnings()) != 1 {
		t.Fatal("acknowledgement removed the clinical warning")
	}
	record(t, log, n, stateEvent("recovery"))
	if w := n.ClinicalWarnings(); len(w) != 1 || w[0].Code != "device.recovery" {
		t.Fatalf("in recovery: %+v", w)
	}
	record(t, log, n, stateEvent("operational"))
	if w := n.ClinicalWarnings(); len(w) != 0 {
		t.Fatalf("warnings after return to operation: %+v", w)
	}
	b, _ := json.Marshal(Warning{})
	for _, k := range []string{`"code"`, `"severity"`, `"title"`, `"cause"`, `"action"`, `"since"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("warning JSON lacks %s: %s", k, b)
		}
	}
}

func TestConfigChangeNotification(t *testing.T) {
	log := newMemLog()
	n := newTestNotifier(t, log)
	seq := record(t, log, n, eventlog.Event{
		Code: "network.allowlist.changed", Category: eventlog.CategoryNetwork, Severity: eventlog.SeverityNotice,
		Actor: "alice", Source: "10.1.2.3:50000", Message: "The HTTPS allowlist was changed.",
		Fields: map[string]string{"old.allow": "10.0.0.0/8", "new.allow": "10.1.0.0/16",
			// A writer that forgot to mask: the notifier masks anyway.
			"old.psk": "hunter2-old", "new.psk": "hunter2-new", "password": "s3cret!", "setup_code": "123-456"},
	})
	no, ok := n.Get(seq)
	if !ok {
		t.Fatal("no notification")
	}
	if no.Code != "config.change.network" || no.Event.Actor != "alice" || no.Event.Source != "10.1.2.3:50000" ||
		no.Time.IsZero() || no.Event.Message == "" || no.ID != seq || no.Event.Seq != seq {
		t.Fatalf("notification lacks who, when, where or what: %+v", no)
	}
	want := map[string][2]string{"allow": {"10.0.0.0/8", "10.1.0.0/16"}, "psk": {Masked, Masked}, "password": {"–", Masked}, "setup_code": {"–", Masked}}
	if len(no.Changes) != len(want) {
		t.Fatalf("changes = %+v", no.Changes)
	}
	for _, c := range no.Changes {
		if w := want[c.What]; c.Old != w[0] || c.New != w[1] {
			t.Errorf("change %s: %s → %s, want %s → %s", c.What, c.Old, c.New, w[0], w[1])
		}
	}
	b, _ := json.Marshal(n.List(Filter{}))
	// The SIEM gets the same changes, masked, in the notification element.
	a, ok := n.Annotate(log.all()[seq-1])
	if !ok || !strings.Contains(a.Changes, "allow: 10.0.0.0/8 → 10.1.0.0/16") || !strings.Contains(a.Changes, "psk: "+Masked+" → "+Masked) {
		t.Errorf("annotation for the SIEM lacks the changes: %+v", a)
	}
	b = append(b, a.Changes...)
	for _, secret := range []string{"hunter2", "s3cret", "123-456"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("secret %q leaks into the inbox or to the SIEM: %s", secret, b)
		}
	}
}

func TestAcknowledgeRecordsEventAndReplays(t *testing.T) {
	log := newMemLog()
	n := newTestNotifier(t, log)
	seq := record(t, log, n, eventlog.Event{Code: "integrity.file.changed", Category: eventlog.CategoryIntegrity,
		Severity: eventlog.SeverityCritical, Fields: map[string]string{"path": "/usr/bin/vitalsim"}})
	ctx := context.Background()
	who := Identity{User: "bob", Source: "10.0.0.9:5555"}
	for _, bad := range []string{"", strings.Repeat("x", 1001), "line\nbreak", "bad\xffutf8"} {
		var ce *CommentError
		if _, err := n.Acknowledge(ctx, seq, who, bad); !errors.As(err, &ce) {
			t.Errorf("comment %q: err = %v, want CommentError", bad, err)
		}
	}
	if _, err := n.Acknowledge(ctx, 999, who, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	no, err := n.Acknowledge(ctx, seq, who, "reinstalled the release")
	if err != nil {
		t.Fatal(err)
	}
	if no.Ack == nil || no.Ack.By != "bob" || no.Ack.Comment != "reinstalled the release" || no.Ack.Event == 0 {
		t.Fatalf("ack = %+v", no.Ack)
	}
	if _, err := n.Acknowledge(ctx, seq, who, "again"); !errors.Is(err, ErrAlreadyAcked) {
		t.Errorf("second ack: %v", err)
	}
	evs := log.all()
	ack := evs[len(evs)-1]
	if ack.Code != AckCode || ack.Actor != "bob" || ack.Source != "10.0.0.9:5555" || ack.Fields["comment"] != "reinstalled the release" {
		t.Fatalf("ack event = %+v", ack)
	}
	// A new notifier that reads the log rebuilds the inbox, acknowledgement included.
	n2 := newTestNotifier(t, log)
	ctx2, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- n2.Run(ctx2) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if no, ok := n2.Get(seq); ok && no.Ack != nil && no.Ack.Comment == "reinstalled the release" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replay did not rebuild the acknowledged notification")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A failing recorder means no acknowledgement.
	seq2 := record(t, log, n, stateEvent("degraded"))
	log.fail = errors.New("disk full")
	if _, err := n.Acknowledge(ctx, seq2, who, "ok"); err == nil {
		t.Fatal("acknowledged without a recorded event")
	}
	if no, _ := n.Get(seq2); no.Ack != nil {
		t.Fatal("acknowledgement kept although its event was not recorded")
	}
}

func TestInboxEvictionKeepsPendingWork(t *testing.T) {
	log := newMemLog()
	n := newTestNotifier(t, log)
	pending := record(t, log, n, eventlog.Event{Code: "keystore.unseal.failed", Category: eventlog.CategorySystem, Severity: eventlog.SeverityCritical})
	for range 150 {
		record(t, log, n, eventlog.Event{Code: "access.denied", Category: eventlog.CategoryAccess, Severity: eventlog.SeverityNotice})
	}
	if got := len(n.List(Filter{Limit: 1000})); got != 100 {
		t.Fatalf("inbox holds %d, want 100", got)
	}
	if _, ok := n.Get(pending); !ok {
		t.Fatal("an unacknowledged notification that needs acknowledgement was evicted")
	}
}

func TestHandleIgnoresReplayedEvents(t *testing.T) {
	log := newMemLog()
	n := newTestNotifier(t, log)
	seq := record(t, log, n, stateEvent("degraded"))
	n.Handle(log.all()[seq-1])
	if got := len(n.List(Filter{})); got != 1 {
		t.Fatalf("%d notifications after a replay, want 1", got)
	}
}

func TestAnnotateForTheSIEM(t *testing.T) {
	n := newTestNotifier(t, newMemLog())
	a, ok := n.Annotate(eventlog.Event{Seq: 5, Code: "integrity.file.changed", Category: eventlog.CategoryIntegrity,
		Severity: eventlog.SeverityCritical, Fields: map[string]string{"path": "/usr/bin/vitalsim", "token": "abc123"}})
	if !ok || a.Code != "integrity.software.changed" || a.Severity != "critical" || a.Audience != "admin,it" ||
		!strings.Contains(a.Cause, "/usr/bin/vitalsim") || !strings.Contains(a.Action, "reinstall") {
		t.Fatalf("annotation = %+v, %v", a, ok)
	}
	for _, e := range []eventlog.Event{
		{Code: "log.checkpoint", Category: eventlog.CategoryLog, Severity: eventlog.SeverityInfo},
		{Code: AckCode, Category: eventlog.CategorySystem, Severity: eventlog.SeverityNotice},
		{Code: "auth.login.succeeded", Category: eventlog.CategoryAuth, Severity: eventlog.SeverityInfo},
	} {
		if _, ok := n.Annotate(e); ok {
			t.Errorf("%s annotated", e.Code)
		}
	}
	if len(n.List(Filter{})) != 0 {
		t.Error("Annotate changed the inbox")
	}
}

// The inbox holds one active device-state notification, the current
// state's: a device that is not suitable is not also "operational" among
// the active notifications, and a restart leaves one, not one per boot.
func TestOneActiveDeviceState(t *testing.T) {
	log := newMemLog()
	n := newTestNotifier(t, log)
	active := true
	// A state repeated is a restart: the new boot's notification ends the
	// old boot's.
	for _, st := range []string{"provisioning", "provisioning", "operational", "operational", "degraded", "operational",
		"not-suitable", "not-suitable", "recovery", "operational"} {
		record(t, log, n, stateEvent(st))
		var codes []string
		for _, no := range n.List(Filter{Active: &active}) {
			if strings.HasPrefix(no.Code, "device.") {
				codes = append(codes, no.Code)
			}
		}
		if len(codes) != 1 || codes[0] != "device."+st {
			t.Errorf("after %s the active state notifications are %v", st, codes)
		}
	}
}
