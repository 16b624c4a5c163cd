package forward_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/eventlog/eventlogtest"
	"github.com/medguard/medguard/internal/forward"
	"github.com/medguard/medguard/internal/forward/forwardtest"
)

// pkiFixture is a CA with a receiver certificate for "localhost".
type pkiFixture struct {
	ca     *forwardtest.PKI
	server *forwardtest.Leaf
}

func newPKI(t *testing.T) pkiFixture {
	ca := forwardtest.NewPKI(t, "hospital SIEM CA")
	return pkiFixture{ca: ca, server: ca.Issue(t, "siem", "localhost")}
}

func (p pkiFixture) serverTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.server.TLS}, MinVersion: tls.VersionTLS12}
}

func goDest(r *goReceiver, pool *x509.CertPool) forward.Destination {
	return forward.Destination{Name: "siem", Address: r.addr(), RootCAs: pool, ServerName: "localhost", Cursor: &forwardtest.MemCursor{}}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func allArrived(r *goReceiver, n uint64) func() bool {
	return func() bool {
		s := r.seqs()
		for i := uint64(1); i <= n; i++ {
			if s[i] == 0 {
				return false
			}
		}
		return true
	}
}

func hasCode(rec *eventlogtest.Memory, code string) bool {
	return slices.Contains(rec.Codes(), code)
}

func TestForwardsEveryEntryInOrder(t *testing.T) {
	p := newPKI(t)
	r := newGoReceiver(t, p.serverTLS())
	src := forwardtest.NewSource()
	src.AppendN(1000, "system.test")
	f, _ := startForwarder(t, forward.Config{Source: src, Destinations: []forward.Destination{goDest(r, p.ca.Pool())}})
	src.AppendN(10, "system.later")
	waitFor(t, "1010 entries", allArrived(r, 1010))
	got := r.received()
	for i, m := range got[:1010] {
		if m.Seq != uint64(i+1) {
			t.Fatalf("message %d carries seq %d: not in order", i, m.Seq)
		}
		e := src.Entry(m.Seq)
		if string(m.Line) != string(e.Line) || m.Device != "icu-monitor-7" || m.Category != "system" || m.Boot != "test-boot" {
			t.Fatalf("message %d: %+v", i, m)
		}
	}
	st := f.Status()[0]
	if !st.Connected || st.Next != 1011 {
		t.Errorf("status = %+v", st)
	}
}

// An impostor with a certificate from another CA, or the right CA's
// certificate for another name, gets nothing (IEC 62443-4-2 CR 1.8, 3.1).
func TestImpostorReceiverGetsNothing(t *testing.T) {
	p := newPKI(t)
	other := forwardtest.NewPKI(t, "attacker CA")
	cases := map[string]*tls.Config{
		"other CA":    {Certificates: []tls.Certificate{other.Issue(t, "siem", "localhost").TLS}},
		"wrong name":  {Certificates: []tls.Certificate{p.ca.Issue(t, "siem", "evil.example").TLS}},
		"self-signed": {Certificates: []tls.Certificate{forwardtest.NewPKI(t, "localhost").Issue(t, "x", "localhost").TLS}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			r := newGoReceiver(t, cfg)
			src := forwardtest.NewSource()
			src.AppendN(5, "system.secret")
			rec := &eventlogtest.Memory{}
			startForwarder(t, forward.Config{Source: src, Recorder: rec, Destinations: []forward.Destination{goDest(r, p.ca.Pool())}})
			waitFor(t, "a handshake-failed event", func() bool { return hasCode(rec, forward.CodeHandshake) })
			if got := r.received(); len(got) != 0 {
				t.Fatalf("impostor received %d messages", len(got))
			}
		})
	}
}

func TestTLSVersionPolicy(t *testing.T) {
	p := newPKI(t)
	cfg := p.serverTLS()
	cfg.MaxVersion = tls.VersionTLS12
	r := newGoReceiver(t, cfg)
	src := forwardtest.NewSource()
	src.AppendN(3, "system.test")
	// Default: TLS 1.3 only; a 1.2-only receiver is refused.
	rec := &eventlogtest.Memory{}
	_, stop := startForwarder(t, forward.Config{Source: src, Recorder: rec, Destinations: []forward.Destination{goDest(r, p.ca.Pool())}})
	waitFor(t, "a refused handshake", func() bool { return hasCode(rec, forward.CodeHandshake) })
	stop()
	if len(r.received()) != 0 {
		t.Fatal("sent over TLS 1.2 without opting down")
	}
	// Explicit opt-down: works, and is recorded as a security event.
	d := goDest(r, p.ca.Pool())
	d.MinVersion = tls.VersionTLS12
	rec2 := &eventlogtest.Memory{}
	startForwarder(t, forward.Config{Source: src, Recorder: rec2, Destinations: []forward.Destination{d}})
	waitFor(t, "3 entries over TLS 1.2", allArrived(r, 3))
	if !hasCode(rec2, forward.CodeTLSWeakened) {
		t.Errorf("opting down to TLS 1.2 recorded no event: %v", rec2.Codes())
	}
	d.MinVersion = tls.VersionTLS11
	if _, err := forward.New(forward.Config{Source: src, Device: "d", Destinations: []forward.Destination{d}}); err == nil {
		t.Error("TLS 1.1 accepted")
	}
}

func TestClientCertificate(t *testing.T) {
	p := newPKI(t)
	cfg := p.serverTLS()
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	cfg.ClientCAs = p.ca.Pool()
	r := newGoReceiver(t, cfg)
	src := forwardtest.NewSource()
	src.AppendN(3, "system.test")
	d := goDest(r, p.ca.Pool())
	_, stop := startForwarder(t, forward.Config{Source: src, Destinations: []forward.Destination{d}})
	waitFor(t, "a refused handshake", func() bool { _, f := r.counts(); return f > 0 })
	stop()
	if len(r.received()) != 0 {
		t.Fatal("receiver requiring a client certificate accepted none")
	}
	client := p.ca.Issue(t, "icu-monitor-7")
	d.ClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &client.TLS, nil }
	startForwarder(t, forward.Config{Source: src, Destinations: []forward.Destination{d}})
	waitFor(t, "3 entries with a client certificate", allArrived(r, 3))
}

// A receiver that drops the connection again and again loses nothing;
// what arrives twice is recognisable by its sequence number.
func TestReconnectLosesNothing(t *testing.T) {
	p := newPKI(t)
	r := newGoReceiver(t, p.serverTLS())
	// The receiver reads promptly: what it has not read within the resend
	// window it never will (RFC 5425 has no acknowledgement; see
	// docs/forwarding.md).
	r.closeAfter, r.minAge = 700, 1200*time.Millisecond
	src := forwardtest.NewSource()
	startForwarder(t, forward.Config{Source: src, ResendWindow: 600 * time.Millisecond, Destinations: []forward.Destination{goDest(r, p.ca.Pool())}})
	for range 100 {
		src.AppendN(50, "system.test")
		time.Sleep(25 * time.Millisecond)
	}
	defer func() {
		if t.Failed() {
			s := r.seqs()
			var missing []uint64
			for i := uint64(1); i <= 5000; i++ {
				if s[i] == 0 {
					missing = append(missing, i)
				}
			}
			t.Logf("missing %d: %v", len(missing), missing[:min(len(missing), 40)])
		}
	}()
	waitFor(t, "5000 entries across reconnects", allArrived(r, 5000))
	if h, _ := r.counts(); h < 3 {
		t.Errorf("only %d connections: the receiver did not drop them", h)
	}
}

func TestCursorPersistsAcrossRestart(t *testing.T) {
	p := newPKI(t)
	r := newGoReceiver(t, p.serverTLS())
	src := forwardtest.NewSource()
	src.AppendN(200, "system.test")
	cur := &forwardtest.MemCursor{}
	d := goDest(r, p.ca.Pool())
	d.Cursor = cur
	cfg := forward.Config{Source: src, Destinations: []forward.Destination{d}, StoreEvery: time.Millisecond, ResendWindow: 20 * time.Millisecond}
	_, stop := startForwarder(t, cfg)
	waitFor(t, "200 entries and a stored cursor", func() bool { n, _ := cur.Load(); return allArrived(r, 200)() && n == 201 })
	stop()
	src.AppendN(50, "system.after")
	r2 := newGoReceiver(t, p.serverTLS())
	d.Address = r2.addr()
	cfg.Destinations = []forward.Destination{d}
	startForwarder(t, cfg)
	waitFor(t, "the 50 new entries", func() bool { return r2.seqs()[250] > 0 })
	if first := r2.received()[0].Seq; first != 201 {
		t.Fatalf("after a restart the forwarder began at %d, want the stored cursor 201", first)
	}
}

func TestGapIsReported(t *testing.T) {
	p := newPKI(t)
	r := newGoReceiver(t, p.serverTLS())
	src := forwardtest.NewSource()
	src.AppendN(100, "system.test")
	src.Prune(40)
	rec := &eventlogtest.Memory{}
	startForwarder(t, forward.Config{Source: src, Recorder: rec, Destinations: []forward.Destination{goDest(r, p.ca.Pool())}})
	waitFor(t, "entries 40 to 100", func() bool { return r.seqs()[100] > 0 })
	if first := r.received()[0].Seq; first != 40 {
		t.Errorf("first entry sent %d, want 40", first)
	}
	if !hasCode(rec, forward.CodeGap) {
		t.Fatalf("no gap event: %v", rec.Codes())
	}
	ev := rec.Events()[slices.Index(rec.Codes(), forward.CodeGap)]
	if ev.Fields["from"] != "1" || ev.Fields["to"] != "39" {
		t.Errorf("gap event fields = %v", ev.Fields)
	}
}

// A receiver that accepts and never reads must not hold up the device:
// the log goes on growing and Close returns at once.
func TestStalledReceiverBlocksNothing(t *testing.T) {
	p := newPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := tls.Server(c, p.serverTLS())
			tc.Handshake() // then never read
			defer tc.Close()
		}
	}()
	src := forwardtest.NewSource()
	d := forward.Destination{Name: "stalled", Address: ln.Addr().String(), RootCAs: p.ca.Pool(), ServerName: "localhost", Cursor: &forwardtest.MemCursor{}}
	f, stop := startForwarder(t, forward.Config{Source: src, Destinations: []forward.Destination{d}})
	for range 20 {
		src.AppendN(2000, "system.flood")
	}
	waitFor(t, "the forwarder to block on the stalled receiver", func() bool {
		st := f.Status()[0]
		return st.Connected && st.Next > 1000 && st.Backlog > 0
	})
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a stalled receiver")
	}
	if st := f.Status()[0]; st.Delivered > st.Next {
		t.Errorf("status %+v", st)
	}
}

func TestUnreachableIsReportedOnce(t *testing.T) {
	p := newPKI(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there
	src := forwardtest.NewSource()
	src.AppendN(3, "system.test")
	rec := &eventlogtest.Memory{}
	d := forward.Destination{Name: "down", Address: addr, RootCAs: p.ca.Pool(), Cursor: &forwardtest.MemCursor{}}
	startForwarder(t, forward.Config{Source: src, Recorder: rec, DownAfter: 50 * time.Millisecond, Destinations: []forward.Destination{d}})
	waitFor(t, "an unreachable event", func() bool { return hasCode(rec, forward.CodeUnreachable) })
	time.Sleep(300 * time.Millisecond)
	n := 0
	for _, c := range rec.Codes() {
		if c == forward.CodeUnreachable {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d unreachable events for one outage, want 1", n)
	}
	ev := rec.Events()[0]
	if ev.Category != eventlog.CategoryLog || ev.Fields["destination"] != "down" || !strings.Contains(ev.Action, "wait in the device's log") {
		t.Errorf("event = %+v", ev)
	}
}

func TestNewRefusesBadDestinations(t *testing.T) {
	src := forwardtest.NewSource()
	pool := x509.NewCertPool()
	good := forward.Destination{Name: "a", Address: "h:6514", RootCAs: pool, Cursor: &forwardtest.MemCursor{}}
	bad := map[string]func(d *forward.Destination){
		"name":    func(d *forward.Destination) { d.Name = "A B" },
		"address": func(d *forward.Destination) { d.Address = "nohost" },
		"no CA":   func(d *forward.Destination) { d.RootCAs = nil },
		"cursor":  func(d *forward.Destination) { d.Cursor = nil },
		"format":  func(d *forward.Destination) { d.Format = "leef" },
	}
	for name, mod := range bad {
		d := good
		mod(&d)
		if _, err := forward.New(forward.Config{Source: src, Device: "d", Destinations: []forward.Destination{d}}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := forward.New(forward.Config{Source: src, Device: "d", Destinations: []forward.Destination{good, good}}); err == nil {
		t.Error("duplicate names accepted")
	}
	if _, err := forward.New(forward.Config{Device: "d"}); err == nil {
		t.Error("no source accepted")
	}
	if _, err := forward.New(forward.Config{Source: src, Device: "d", Facility: 24}); err == nil {
		t.Error("facility 24 accepted")
	}
	f, err := forward.New(forward.Config{Source: src, Device: "d"})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	f.Close()
	if err := f.Run(context.Background()); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("Run after Close: %v", err)
	}
}

// Each destination has its own cursor and connection: one that is down
// holds up neither the others nor the log.
func TestSeveralDestinations(t *testing.T) {
	p := newPKI(t)
	a := newGoReceiver(t, p.serverTLS())
	b := newGoReceiver(t, p.serverTLS())
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	downAddr := ln.Addr().String()
	ln.Close()
	src := forwardtest.NewSource()
	src.AppendN(300, "system.test")
	da, db := goDest(a, p.ca.Pool()), goDest(b, p.ca.Pool())
	db.Name, db.Format = "arcsight", forward.FormatCEF
	down := forward.Destination{Name: "down", Address: downAddr, RootCAs: p.ca.Pool(), Cursor: &forwardtest.MemCursor{}}
	f, _ := startForwarder(t, forward.Config{Source: src, Destinations: []forward.Destination{da, down, db}})
	waitFor(t, "both reachable destinations to get every entry", func() bool { return allArrived(a, 300)() && allArrived(b, 300)() })
	if b.received()[0].Format != forward.FormatCEF || a.received()[0].Format != forward.FormatRFC5424 {
		t.Error("formats mixed up between destinations")
	}
	st := f.Status()
	if st[1].Connected || st[1].Backlog != 300 || !st[0].Connected || !st[2].Connected {
		t.Errorf("status = %+v", st)
	}
}

func TestHandshakeFailureRecordedOncePerOutage(t *testing.T) {
	p := newPKI(t)
	other := forwardtest.NewPKI(t, "attacker CA")
	r := newGoReceiver(t, &tls.Config{Certificates: []tls.Certificate{other.Issue(t, "siem", "localhost").TLS}})
	src := forwardtest.NewSource()
	rec := &eventlogtest.Memory{}
	startForwarder(t, forward.Config{Source: src, Recorder: rec, Destinations: []forward.Destination{goDest(r, p.ca.Pool())}})
	waitFor(t, "several refused handshakes", func() bool { _, f := r.counts(); return f >= 4 })
	n := 0
	for _, c := range rec.Codes() {
		if c == forward.CodeHandshake {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d handshake-failed events for one outage, want 1", n)
	}
}

// An entry that cannot be sent (here: a severity no message can carry) is
// skipped, not retried for ever; the entries after it arrive.
func TestUnsendableEntryIsSkipped(t *testing.T) {
	p := newPKI(t)
	r := newGoReceiver(t, p.serverTLS())
	src := forwardtest.NewSource()
	src.AppendN(5, "system.test")
	src.Append(eventlog.Event{Code: "system.bad", Category: eventlog.CategorySystem, Severity: 9, Message: "x"})
	src.AppendN(5, "system.test")
	startForwarder(t, forward.Config{Source: src, Destinations: []forward.Destination{goDest(r, p.ca.Pool())}})
	waitFor(t, "the entries after the unsendable one", func() bool { return r.seqs()[11] > 0 })
	if r.seqs()[6] != 0 {
		t.Error("an entry with severity 9 was sent")
	}
}

// An unsendable entry at the end of a batch must not hold back the
// entries written before it.
func TestUnsendableLastEntryFlushesTheRest(t *testing.T) {
	p := newPKI(t)
	r := newGoReceiver(t, p.serverTLS())
	src := forwardtest.NewSource()
	src.AppendN(3, "system.test")
	src.Append(eventlog.Event{Code: "system.bad", Category: eventlog.CategorySystem, Severity: 9, Message: "x"})
	startForwarder(t, forward.Config{Source: src, Destinations: []forward.Destination{goDest(r, p.ca.Pool())}})
	waitFor(t, "the three entries before the unsendable one", allArrived(r, 3))
}
