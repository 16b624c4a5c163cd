package device

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/notify"
)

// A user change made through the HTTPS API reaches the admin's live
// stream as a configuration-change notification with who, from where and
// old → new, on the real device (log, notifier, API); acknowledging it
// through the API records an event and updates the stream (issue 6,
// items 3 and 4).
func TestUserChangeReachesTheStream(t *testing.T) {
	cfg, _ := testConfig(t)
	d := start(t, cfg)
	c, tok := provision(t, d, cfg)
	base := "https://" + d.apiAddr
	call := func(method, path, body string) (int, string) {
		t.Helper()
		return apiCall(t, c, d, tok, method, path, body)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/notifications/stream", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	stream := make(chan notify.Notification, 64)
	raw := make(chan string, 64)
	go func() {
		defer close(stream)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var n notify.Notification
				json.Unmarshal([]byte(data), &n)
				raw <- data
				stream <- n
			}
		}
	}()
	password := rand.Text() // the new user's; never on the stream
	await := func(what string, match func(n notify.Notification) bool) notify.Notification {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case n, ok := <-stream:
				if !ok {
					t.Fatalf("stream ended before %s", what)
				}
				if s := <-raw; strings.Contains(s, password) {
					t.Fatalf("a password on the stream: %s", s)
				}
				if match(n) {
					return n
				}
			case <-timeout:
				t.Fatalf("no %s on the stream", what)
			}
		}
	}

	sent := time.Now()
	if code, body := call("POST", "/v1/users", fmt.Sprintf(`{"name":"nurse","role":"clinician","password":%q}`, password)); code != http.StatusCreated {
		t.Fatalf("create user: %d %s", code, body)
	}
	n := await("user-change notification", func(n notify.Notification) bool {
		return n.Code == "config.change.users" && n.Event.Code == "auth.user.created" && strings.Contains(n.Event.Message, "nurse")
	})
	t.Logf("user change on the stream %v after the request was sent", time.Since(sent))
	if n.Event.Actor != "alice" || !strings.HasPrefix(n.Event.Source, "127.0.0.1:") || n.Time.IsZero() || n.ID != n.Event.Seq {
		t.Errorf("who, from where, when or which event missing: %+v", n)
	}
	changed := map[string]string{}
	for _, c := range n.Changes {
		changed[c.What] = c.Old + " → " + c.New
	}
	if changed["account"] != "– → created" || changed["role"] != "– → clinician" || changed["user"] != "– → nurse" {
		t.Errorf("changes = %v", changed)
	}

	if code, body := call("POST", fmt.Sprintf("/v1/notifications/%d/ack", n.ID), `{"comment":"planned: night shift nurse"}`); code != http.StatusOK {
		t.Fatalf("acknowledge: %d %s", code, body)
	}
	acked := await("acknowledgement", func(m notify.Notification) bool { return m.ID == n.ID && m.Ack != nil })
	if acked.Ack.By != "alice" || acked.Ack.Comment != "planned: night shift nurse" || acked.Ack.Event <= n.ID {
		t.Errorf("ack = %+v", acked.Ack)
	}
	code, body := call("GET", fmt.Sprintf("/v1/logs?from=%d&limit=1000", acked.Ack.Event), "")
	if code != http.StatusOK || !strings.Contains(body, `"notify.acknowledged"`) || !strings.Contains(body, "night shift nurse") {
		t.Errorf("the acknowledgement is not in the log: %d %s", code, body)
	}
}

// A setting changed in the configuration file while the daemon was
// stopped is announced at the next start: an event naming each changed key
// old → new, and an admin notification config.change.settings with the
// same changes; a start with unchanged settings announces nothing
// (issue 6, item 4).
func TestChangedSettingsAnnouncedAtStart(t *testing.T) {
	cfg, _ := testConfig(t)
	for i := range 2 { // the first start records the settings, the second finds them unchanged
		if st, err := boot(t, cfg); err != nil || st != Provisioning {
			t.Fatalf("boot %d: %s, %v", i, st, err)
		}
	}
	cfg.Config.Auth.MinPasswordLength = 16
	cfg.Config.Auth.SessionIdleTimeout = config.Duration(10 * time.Minute)
	d := start(t, cfg)

	var found []notify.Notification
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		found = d.notify.List(notify.Filter{Code: "config.change.settings"})
		if len(found) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d settings notifications, want 1 (the unchanged second start announces nothing): %+v", len(found), found)
	}
	n := found[0]
	changed := map[string]string{}
	for _, c := range n.Changes {
		changed[c.What] = c.Old + " → " + c.New
	}
	want := map[string]string{
		"auth.min_password_length":  "15 → 16",
		"auth.session_idle_timeout": `"15m0s" → "10m0s"`,
	}
	if fmt.Sprint(changed) != fmt.Sprint(want) {
		t.Errorf("changes = %v, want %v", changed, want)
	}
	if n.Event.Code != CodeSettingsChanged || n.Event.Actor != "local" || !strings.Contains(n.Event.Message, "auth.min_password_length, auth.session_idle_timeout") {
		t.Errorf("event %+v", n.Event)
	}
}
