package notify

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// testIdentify accepts "Bearer admin" (manage) and "Bearer viewer" (read).
func testIdentify(r *http.Request, manage bool) (Identity, error) {
	switch r.Header.Get("Authorization") {
	case "Bearer admin":
		return Identity{User: "admin", Source: r.RemoteAddr}, nil
	case "Bearer viewer":
		if manage {
			return Identity{}, fmt.Errorf("viewer: %w", ErrForbidden)
		}
		return Identity{User: "viewer", Source: r.RemoteAddr}, nil
	}
	return Identity{}, ErrUnauthenticated
}

func newHTTPTest(t *testing.T, streams int) (*memLog, *Notifier, *httptest.Server) {
	t.Helper()
	log := newMemLog()
	n, err := New(Config{Source: log, Recorder: log, InboxSize: 100, StreamClients: streams, Identify: testIdentify, Heartbeat: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/v1/notifications", n.Handler()))
	t.Cleanup(func() { n.Close(); srv.Close() })
	return log, n, srv
}

func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestInboxAPI(t *testing.T) {
	log, n, srv := newHTTPTest(t, 2)
	base := srv.URL + "/v1/notifications"
	crit := record(t, log, n, eventlog.Event{Code: "integrity.file.changed", Category: eventlog.CategoryIntegrity, Severity: eventlog.SeverityCritical})
	record(t, log, n, eventlog.Event{Code: "access.denied", Category: eventlog.CategoryAccess, Severity: eventlog.SeverityNotice, Message: "no"})

	if code, _ := do(t, "GET", base, "", ""); code != http.StatusUnauthorized {
		t.Errorf("list without credentials: %d", code)
	}
	code, body := do(t, "GET", base+"?severity=error&unacked=true", "viewer", "")
	var list struct{ Notifications []Notification }
	json.Unmarshal([]byte(body), &list)
	if code != 200 || len(list.Notifications) != 1 || list.Notifications[0].ID != crit {
		t.Fatalf("filtered list: %d %s", code, body)
	}
	if code, body := do(t, "GET", base+"?limit=0", "viewer", ""); code != 400 || !strings.Contains(body, "limit") {
		t.Errorf("bad limit: %d %s", code, body)
	}
	if code, _ := do(t, "GET", base+"?bogus=1", "viewer", ""); code != 400 {
		t.Errorf("unknown parameter: %d", code)
	}
	if code, _ := do(t, "GET", fmt.Sprintf("%s/%d", base, crit), "viewer", ""); code != 200 {
		t.Errorf("get: %d", code)
	}
	if code, _ := do(t, "GET", base+"/12345", "viewer", ""); code != 404 {
		t.Errorf("get unknown: %d", code)
	}
	ack := fmt.Sprintf("%s/%d/ack", base, crit)
	// A reader may not acknowledge (IEC 62443-4-2 CR 2.1).
	if code, _ := do(t, "POST", ack, "viewer", `{"comment":"x"}`); code != http.StatusForbidden {
		t.Errorf("ack by viewer: %d", code)
	}
	for _, bad := range []string{``, `{"comment":""}`, `{"comment":"x","extra":1}`, `[1]`, `{"comment":"` + strings.Repeat("a", 9000) + `"}`} {
		if code, body := do(t, "POST", ack, "admin", bad); code != 400 {
			t.Errorf("ack body %.30q: %d %s", bad, code, body)
		}
	}
	if no, _ := n.Get(crit); no.Ack != nil {
		t.Fatal("a refused acknowledgement changed the notification")
	}
	if code, body := do(t, "POST", ack, "admin", `{"comment":"checked: reinstalled"}`); code != 200 || !strings.Contains(body, `"by": "admin"`) {
		t.Fatalf("ack: %d %s", code, body)
	}
	if code, body := do(t, "POST", ack, "admin", `{"comment":"again"}`); code != http.StatusConflict {
		t.Errorf("second ack: %d", code)
	} else {
		// Refusals have the API's shape: a stable code and a message.
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != "conflict" || !strings.Contains(e.Error.Message, "already acknowledged") {
			t.Errorf("second ack answered %s", body)
		}
	}
	if code, _ := do(t, "POST", base+"/999/ack", "admin", `{"comment":"x"}`); code != 404 {
		t.Errorf("ack unknown: %d", code)
	}
	// Without an Identify hook, nothing is served.
	n2, _ := New(Config{})
	rec := httptest.NewRecorder()
	n2.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("no Identify: %d", rec.Code)
	}
}

// sseEvent is one event read from a stream.
type sseEvent struct {
	id   string
	data Notification
}

// openStream connects to the stream and sends its events to a channel.
func openStream(t *testing.T, url, lastID string) (<-chan sseEvent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer viewer")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 100)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			l := sc.Text()
			switch {
			case strings.HasPrefix(l, "id: "):
				ev.id = l[4:]
			case strings.HasPrefix(l, "data: "):
				json.Unmarshal([]byte(l[6:]), &ev.data)
			case l == "" && ev.id != "":
				ch <- ev
				ev = sseEvent{}
			}
		}
	}()
	return ch, cancel
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event on the stream")
	}
	return sseEvent{}
}

func TestStreamReplaysFromLastEventID(t *testing.T) {
	log, n, srv := newHTTPTest(t, 8)
	url := srv.URL + "/v1/notifications/stream"
	a := record(t, log, n, stateEvent("degraded"))
	ch, stop := openStream(t, url, "")
	first := next(t, ch)
	if first.data.ID != a {
		t.Fatalf("first event is notification %d, want %d", first.data.ID, a)
	}
	b := record(t, log, n, stateEvent("operational"))
	// degraded is resolved (a change), then operational arrives.
	got := map[uint64]bool{}
	var lastID string
	for len(got) < 2 {
		ev := next(t, ch)
		got[ev.data.ID] = true
		lastID = ev.id
	}
	if !got[a] || !got[b] {
		t.Fatalf("live events: %v", got)
	}
	stop()
	// Missed while disconnected:
	c := record(t, log, n, eventlog.Event{Code: "auth.user.deleted", Category: eventlog.CategoryAuth, Severity: eventlog.SeverityNotice, Actor: "admin"})
	ch2, stop2 := openStream(t, url, lastID)
	defer stop2()
	if ev := next(t, ch2); ev.data.ID != c {
		t.Fatalf("replay starts with %d, want the missed %d", ev.data.ID, c)
	}
	// A Last-Event-ID of another process replays the whole inbox.
	ch3, stop3 := openStream(t, url, "0000-99")
	defer stop3()
	if ev := next(t, ch3); ev.data.ID != a {
		t.Fatalf("foreign Last-Event-ID: first event %d, want %d", ev.data.ID, a)
	}
}

func TestStreamLimit(t *testing.T) {
	_, _, srv := newHTTPTest(t, 2)
	url := srv.URL + "/v1/notifications/stream"
	_, stop1 := openStream(t, url, "")
	defer stop1()
	_, stop2 := openStream(t, url, "")
	defer stop2()
	if code, _ := do(t, "GET", url, "viewer", ""); code != http.StatusServiceUnavailable {
		t.Errorf("third stream: %d, want 503", code)
	}
	if code, _ := do(t, "GET", url, "", ""); code != http.StatusUnauthorized {
		t.Errorf("stream without credentials: %d, want 401", code)
	}
}

func FuzzInboxHandler(f *testing.F) {
	f.Add("GET", "/?severity=warning&audience=it&limit=5", "")
	f.Add("POST", "/1/ack", `{"comment":"ok"}`)
	f.Add("POST", "/1/ack", `{"comment":`)
	f.Add("GET", "/18446744073709551616", "")
	f.Add("GET", "/?after=-1&active=maybe", "")
	log := newMemLog()
	n, _ := New(Config{Source: log, Recorder: log, Identify: testIdentify})
	seq, _ := log.Record(context.Background(), stateEvent("degraded"))
	n.Handle(log.all()[seq-1])
	h := n.Handler()
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if method != "GET" && method != "POST" || !strings.HasPrefix(target, "/") || strings.HasSuffix(target, "/stream") {
			return
		}
		req, err := http.NewRequest(method, "http://x"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer admin")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
		}
	})
}
