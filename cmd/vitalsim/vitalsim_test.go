package main

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeDaemon serves /v1/local/status on a unix socket, as medguardd does.
type fakeDaemon struct {
	mu     sync.Mutex
	status string // JSON body
	srv    *http.Server
	ln     net.Listener
}

func startFakeDaemon(t *testing.T, sock, status string) *fakeDaemon {
	t.Helper()
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDaemon{status: status, ln: ln}
	d.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/local/status" {
			http.NotFound(w, r)
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		io.WriteString(w, d.status)
	})}
	go d.srv.Serve(ln)
	t.Cleanup(func() { d.srv.Close() })
	return d
}

func (d *fakeDaemon) set(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status = s
}

const (
	operational = `{"device":"icu-7","state":"operational","since":"2026-12-03T10:00:00Z","warnings":[]}`
	notSuitable = `{"device":"icu-7","state":"not-suitable","since":"2026-12-03T10:05:00Z","cause":"software integrity: bin/vitalsim was changed",
	  "warnings":[{"code":"integrity.file.changed","severity":"critical","title":"Software changed","cause":"software integrity: bin/vitalsim was changed","action":"Restore the software.","since":"2026-12-03T10:05:00Z"}]}`
)

// display fetches /api/display until cond holds or 1 s has passed (the
// promise: a warning within one second).
func display(t *testing.T, url string, cond func(Display) bool) Display {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	var d Display
	for {
		resp, err := http.Get(url + "/api/display")
		if err != nil {
			t.Fatal(err)
		}
		d = Display{}
		json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if cond(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("display did not change within 1 s: %+v", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDisplayFollowsDeviceState(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "local.sock")
	daemon := startFakeDaemon(t, sock, operational)
	p := newPoller(sock, 50*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.run(ctx)
	pat := newPatient(1)
	ts := httptest.NewServer((&server{poll: p, now: time.Now, vital: func() Vitals { return pat.step(time.Now()) }}).handler())
	defer ts.Close()

	d := display(t, ts.URL, func(d Display) bool { return d.Mode == "ok" })
	if d.Device != "icu-7" || !d.Vitals.Simulated {
		t.Fatalf("display = %+v", d)
	}
	daemon.set(notSuitable)
	d = display(t, ts.URL, func(d Display) bool { return d.Mode == "not-suitable" })
	if d.Title != "NOT SUITABLE FOR CLINICAL USE" || !strings.Contains(d.Cause, "bin/vitalsim was changed") || d.Action != "Restore the software." {
		t.Fatalf("not-suitable display = %+v", d)
	}
	daemon.set(`{"device":"icu-7","state":"who-knows"}`)
	display(t, ts.URL, func(d Display) bool { return d.Mode == "not-suitable" })
	daemon.set(operational)
	display(t, ts.URL, func(d Display) bool { return d.Mode == "ok" })
	daemon.srv.Close() // the daemon goes away: unknown, shown differently
	d = display(t, ts.URL, func(d Display) bool { return d.Mode == "unreachable" })
	if !strings.Contains(d.Title, "UNKNOWN") || d.Device != "" {
		t.Fatalf("unreachable display = %+v", d)
	}
}

func TestGarbageStatusIsUnreachable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "local.sock")
	startFakeDaemon(t, sock, `<html>not json`)
	p := newPoller(sock, 50*time.Millisecond)
	p.poll(context.Background())
	if d := decide(p.Observation(), time.Now()); d.Mode != "unreachable" {
		t.Fatalf("mode = %s, want unreachable", d.Mode)
	}
}

func TestStaleAnswerIsUnknown(t *testing.T) {
	now := time.Now()
	o := Observation{Reachable: true, Status: Status{State: "operational"}, OKAt: now.Add(-2 * time.Second)}
	if d := decide(o, now); d.Mode != "unreachable" {
		t.Fatalf("a 2 s old answer shows %s", d.Mode)
	}
}

func TestPageHasNoExternalAssetsAndSaysSimulated(t *testing.T) {
	fs.WalkDir(webFS, "web", func(p string, de fs.DirEntry, err error) error {
		if de.IsDir() {
			return nil
		}
		b, _ := webFS.ReadFile(p)
		body := strings.ReplaceAll(string(b), `xmlns="http://www.w3.org/2000/svg"`, "") // a namespace name, not a fetch
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			t.Errorf("%s refers to an external asset", p)
		}
		return nil
	})
	b, _ := webFS.ReadFile("web/index.html")
	if !strings.Contains(string(b), "SIMULATED DATA") || !strings.Contains(string(b), "<canvas") {
		t.Fatal("page does not say SIMULATED or has no waveforms")
	}
	ts := httptest.NewServer((&server{poll: newPoller("/nonexistent", time.Second), now: time.Now, vital: func() Vitals { return Vitals{} }}).handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("CSP = %q", csp)
	}
}

func TestParseArgs(t *testing.T) {
	env := func(string) string { return "" }
	bad := [][]string{
		{"--socket", "/s", "--listen", "0.0.0.0:8088"},
		{"--socket", "/s", "--listen", "192.168.1.5:80"},
		{"--socket", "/s", "--poll", "1s"},
		{},
		{"--socket", "/s", "extra"},
	}
	for _, a := range bad {
		if _, err := parseArgs(a, env); err == nil {
			t.Errorf("%v accepted", a)
		}
	}
	o, err := parseArgs([]string{"--listen", "[::1]:9000"}, func(k string) string {
		if k == "MEDGUARD_LOCAL_SOCKET" {
			return "/run/x.sock"
		}
		return ""
	})
	if err != nil || o.socket != "/run/x.sock" {
		t.Fatalf("%+v %v", o, err)
	}
}

func TestSimulatedVitalsStayPlausible(t *testing.T) {
	p := newPatient(42)
	for i := range 10000 {
		v := p.step(time.Unix(int64(i), 0))
		if v.HR < 55 || v.HR > 110 || v.SpO2 < 93 || v.SpO2 > 100 || v.Sys-v.Dia < 20 || v.RR < 10 || v.RR > 22 || !v.Simulated {
			t.Fatalf("implausible reading %d: %+v", i, v)
		}
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(operational))
	f.Add([]byte(notSuitable))
	f.Add([]byte(`{"state":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseStatus(data)
		if err != nil {
			return
		}
		d := decide(Observation{Reachable: true, Status: s, OKAt: time.Now()}, time.Now())
		if s.State != "operational" && s.State != "degraded" && (d.Mode == "ok" || d.Mode == "degraded") {
			t.Fatalf("state %q shown as %s", s.State, d.Mode)
		}
	})
}
