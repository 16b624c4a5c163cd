package forward_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/forward"
	"github.com/medguard/medguard/internal/forward/forwardtest"
)

// verifyFile runs the hospital-side verification over one rsyslog file.
func verifyFile(t *testing.T, path string, keys ...forward.DeviceKey) forward.Result {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := forward.NewVerifier(keys)
	for i, l := range bytes.Split(data, []byte("\n")) {
		v.AddLine(path, i+1, l)
	}
	return v.Finish()
}

// TestRsyslogStopStartLosesNothing is issue 6's test: rsyslog is stopped in
// the middle of a stream of 100,000 events from the real event log and
// started again; at the end no sequence number is missing, every message
// parses as RFC 5424 (by rsyslog and by us), and verify-forwarded passes
// on what rsyslog wrote, and fails when a line is removed or changed.
func TestRsyslogStopStartLosesNothing(t *testing.T) {
	start := time.Now()
	r := forwardtest.StartRsyslog(t, forwardtest.RsyslogOptions{})
	l, key := forwardtest.OpenLog(t, "icu-monitor-7")
	// The 100,000 events are recorded first, so that the forwarder streams
	// them at full speed (the hardest case for a restart) while rsyslog is
	// stopped and started again.
	forwardtest.RecordN(t, l, 100000)
	last := l.Last()
	t.Logf("%v: %d entries recorded", time.Since(start), last)
	f, stop := startForwarder(t, forward.Config{Source: forward.LogSource(l), Device: "icu-monitor-7",
		ResendWindow: 500 * time.Millisecond, Destinations: []forward.Destination{rsyslogDest(r, "siem")}})
	r.WaitLines(r.Out, 20000, 60*time.Second)
	r.Stop()
	stoppedAt := f.Status()[0].Next
	time.Sleep(500 * time.Millisecond)
	r.Start()
	if stoppedAt >= last {
		t.Fatalf("rsyslog was stopped after the stream ended (%d of %d)", stoppedAt, last)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for f.Status()[0].Delivered <= last {
		if time.Now().After(deadline) {
			t.Fatalf("not delivered: %+v (last %d)", f.Status()[0], last)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	r.Stop() // writes everything it queued
	t.Logf("%v: %d entries delivered, rsyslog stopped when entry %d was next", time.Since(start), last, stoppedAt)
	for i, p := range forwardtest.Lines(t, r.Parsed) {
		if !strings.HasPrefix(p, "1|medguard|") || !strings.Contains(p, `[medguard@32473 `) {
			t.Fatalf("rsyslog did not parse message %d as RFC 5424: %s", i+1, p)
		}
	}

	// Every entry arrived (none missing between 1 and the last), authentic,
	// checkpoints consistent: what verify-forwarded checks.
	res := verifyFile(t, r.Out, key)
	d := res.Devices[0]
	if !res.OK || len(res.Devices) != 1 || d.FirstSeq != 1 || d.LastSeq < last || d.Checkpoints == 0 || len(res.Malformed) > 0 {
		t.Fatalf("verification of what rsyslog received failed: %+v", d.Report)
	}
	t.Logf("%v: verified; %d messages for %d entries: %d resent around the restart", time.Since(start), d.Messages, last, d.Duplicates)

	// Attacks on what the SIEM holds: a removed entry, a changed entry. The
	// first 6,000 lines (the victim and a thousand after it) prove it as
	// well as all of them, at a fraction of the cost under -race.
	lines := forwardtest.Lines(t, r.Out)[:6000]
	victim := `seq="5000"`
	var removed, changed []string
	for _, l := range lines {
		if !strings.Contains(l, victim) {
			removed = append(removed, l)
		}
		if strings.Contains(l, victim) {
			l = strings.Replace(l, "test event", "test evenT", 1)
		}
		changed = append(changed, l)
	}
	for name, tc := range map[string]struct {
		lines []string
		kind  eventlog.Kind
	}{"removed": {removed, eventlog.KindDeleted}, "changed": {changed, eventlog.KindModified}} {
		p := forwardtest.WriteFile(t, t.TempDir(), "out.log", []byte(strings.Join(tc.lines, "\n")+"\n"))
		res := verifyFile(t, p, key)
		if res.OK || res.Devices[0].First == nil || res.Devices[0].First.Kind != tc.kind || res.Devices[0].First.Seq != 5000 {
			t.Errorf("%s line: verification says %+v, want %s at 5000", name, res.Devices[0].First, tc.kind)
		}
	}
}
