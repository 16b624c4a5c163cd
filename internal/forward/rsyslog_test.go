package forward_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/eventlog/eventlogtest"
	"github.com/medguard/medguard/internal/forward"
	"github.com/medguard/medguard/internal/forward/forwardtest"
)

// startForwarder runs a forwarder from src to the destinations until the
// test ends; it returns a function that stops it.
func startForwarder(t testing.TB, cfg forward.Config) (*forward.Forwarder, func()) {
	t.Helper()
	if cfg.Device == "" {
		cfg.Device = "icu-monitor-7"
	}
	if cfg.Facility == 0 {
		cfg.Facility = 13
	}
	if cfg.RetryMin == 0 {
		cfg.RetryMin, cfg.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	}
	if cfg.ResendWindow == 0 {
		cfg.ResendWindow = 300 * time.Millisecond
	}
	f, err := forward.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); f.Run(context.Background()) }()
	var once sync.Once
	stop := func() { once.Do(func() { f.Close(); wg.Wait() }) }
	t.Cleanup(stop)
	return f, stop
}

func rsyslogDest(r *forwardtest.Rsyslog, name string) forward.Destination {
	return forward.Destination{Name: name, Address: r.Addr(), RootCAs: r.CA.Pool(), ServerName: "localhost",
		Cursor: &forwardtest.MemCursor{}}
}

// checkReceived parses every line rsyslog wrote with our parser and
// rsyslog's, and returns how often each sequence number arrived.
func checkReceived(t *testing.T, r *forwardtest.Rsyslog, src *forwardtest.Source) map[uint64]int {
	t.Helper()
	seen := map[uint64]int{}
	for i, l := range forwardtest.Lines(t, r.Out) {
		m, err := forward.ParseMessage([]byte(l))
		if err != nil {
			t.Fatalf("out.log line %d does not parse: %v\n%s", i+1, err, l)
		}
		want := src.Entry(m.Seq)
		if string(m.Line) != string(want.Line) || fmt.Sprintf("%x", m.MAC) != fmt.Sprintf("%x", want.MAC) {
			t.Fatalf("out.log line %d: entry %d arrived changed:\n%s\nwant line %s", i+1, m.Seq, l, want.Line)
		}
		seen[m.Seq]++
	}
	for i, l := range forwardtest.Lines(t, r.Parsed) {
		// rsyslog's own parser: protocol version 1, our APP-NAME and SD.
		if !strings.HasPrefix(l, "1|medguard|") || !strings.Contains(l, "[medguard@32473 ") {
			t.Fatalf("rsyslog did not parse message %d as RFC 5424: %s", i+1, l)
		}
	}
	return seen
}

func TestRsyslogReceivesEveryEntry(t *testing.T) {
	r := forwardtest.StartRsyslog(t, forwardtest.RsyslogOptions{})
	src := forwardtest.NewSource()
	src.AppendN(500, "system.test")
	rec := &eventlogtest.Memory{}
	// Every tenth entry raises a notification, which the SIEM gets with it.
	annotate := func(e eventlog.Event) (forward.Annotation, bool) {
		return forward.Annotation{Code: "test.note", Title: "Test", Severity: "warning", Audience: "it",
			Cause: fmt.Sprintf(`entry %d "quoted" [bracketed]`, e.Seq), Action: "Call IT."}, e.Seq%10 == 0
	}
	_, stop := startForwarder(t, forward.Config{Source: src, Recorder: rec, Annotate: annotate,
		Destinations: []forward.Destination{rsyslogDest(r, "siem")}})
	src.AppendN(500, "system.later")
	r.WaitLines(r.Out, 1000, 20*time.Second)
	stop()
	seen := checkReceived(t, r, src)
	for s := uint64(1); s <= 1000; s++ {
		if seen[s] == 0 {
			t.Fatalf("entry %d never arrived", s)
		}
	}
	notes := 0
	for _, l := range forwardtest.Lines(t, r.Out) {
		m, _ := forward.ParseMessage([]byte(l))
		if (m.Seq%10 == 0) != (m.Notification != nil) {
			t.Fatalf("entry %d: notification %+v", m.Seq, m.Notification)
		}
		if m.Notification != nil {
			notes++
			if m.Notification.Cause != fmt.Sprintf(`entry %d "quoted" [bracketed]`, m.Seq) || m.Notification.Action != "Call IT." {
				t.Fatalf("notification arrived changed: %+v", m.Notification)
			}
		}
	}
	parsed := strings.Join(forwardtest.Lines(t, r.Parsed), "\n")
	if notes < 100 || strings.Count(parsed, "[notification@32473 ") < 100 {
		t.Fatalf("%d notifications parsed by us, %d by rsyslog", notes, strings.Count(parsed, "[notification@32473 "))
	}
}

func TestRsyslogCEF(t *testing.T) {
	r := forwardtest.StartRsyslog(t, forwardtest.RsyslogOptions{})
	src := forwardtest.NewSource()
	src.AppendN(50, "system.test")
	d := rsyslogDest(r, "arcsight")
	d.Format = forward.FormatCEF
	startForwarder(t, forward.Config{Source: src, Destinations: []forward.Destination{d}})
	lines := r.WaitLines(r.Out, 50, 20*time.Second)
	for i, l := range lines {
		if !strings.Contains(l, " CEF:0|medguard|medguard|1|system.test|") {
			t.Fatalf("line %d is not CEF: %s", i+1, l)
		}
	}
	seen := checkReceived(t, r, src)
	if len(seen) != 50 {
		t.Fatalf("%d distinct entries arrived, want 50", len(seen))
	}
}

// An rsyslog relay limited to TLS 1.2 (as many are): refused by default,
// reached after the explicit opt-down, which is recorded.
func TestRsyslogTLS12Relay(t *testing.T) {
	r := forwardtest.StartRsyslog(t, forwardtest.RsyslogOptions{TLS12Only: true})
	src := forwardtest.NewSource()
	src.AppendN(20, "system.test")
	rec := &eventlogtest.Memory{}
	_, stop := startForwarder(t, forward.Config{Source: src, Recorder: rec, Destinations: []forward.Destination{rsyslogDest(r, "siem")}})
	waitFor(t, "a refused handshake", func() bool { return hasCode(rec, forward.CodeHandshake) })
	stop()
	if n := len(forwardtest.Lines(t, r.Out)); n != 0 {
		t.Fatalf("%d messages reached a TLS 1.2 relay without the opt-down", n)
	}
	d := rsyslogDest(r, "siem")
	d.MinVersion = tls.VersionTLS12
	rec2 := &eventlogtest.Memory{}
	startForwarder(t, forward.Config{Source: src, Recorder: rec2, Destinations: []forward.Destination{d}})
	r.WaitLines(r.Out, 20, 20*time.Second)
	if !hasCode(rec2, forward.CodeTLSWeakened) {
		t.Error("the opt-down to TLS 1.2 was not recorded")
	}
}

// An rsyslog relay that requires client certificates
// (streamDriver.authMode x509/certvalid) accepts the device's.
func TestRsyslogClientCertificate(t *testing.T) {
	r := forwardtest.StartRsyslog(t, forwardtest.RsyslogOptions{ClientAuth: true})
	src := forwardtest.NewSource()
	src.AppendN(20, "system.test")
	d := rsyslogDest(r, "siem")
	_, stop := startForwarder(t, forward.Config{Source: src, Destinations: []forward.Destination{d}})
	time.Sleep(time.Second)
	stop()
	if n := len(forwardtest.Lines(t, r.Out)); n != 0 {
		t.Fatalf("%d messages accepted without a client certificate", n)
	}
	client := r.CA.Issue(t, "icu-monitor-7", "icu-monitor-7")
	d.ClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &client.TLS, nil }
	startForwarder(t, forward.Config{Source: src, Destinations: []forward.Destination{d}})
	r.WaitLines(r.Out, 20, 20*time.Second)
}
