package eventlog

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"
)

// The RFC 5424 export must be accepted by a strict parser (best effort
// off): TIME-SECFRAC has at most six digits (RFC 5424, section 6.2.3), so
// the header carries microseconds while the record in MSG keeps its
// nanoseconds.
func TestFormatRFC5424ParsesStrictly(t *testing.T) {
	env := newTestEnv(t)
	l := env.open()
	times := []time.Time{
		time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC),
		time.Date(2026, 12, 3, 10, 0, 1, 999999999, time.UTC), // must not round up to :02
		time.Date(2026, 12, 3, 10, 0, 2, 0, time.UTC),
		time.Date(2026, 12, 3, 10, 0, 3, 1000, time.UTC),
	}
	for i, at := range times {
		env.clock.Add(at.Sub(env.clock.Now()))
		e := testEvent(i)
		if i == 3 {
			// Longer than MSGID's 32 characters.
			e.Code = "auth.login.failed.with.a.rather.long.code"
		}
		if _, err := l.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	recs := mustRead(t, l, 1)
	l.Close()
	secfrac := regexp.MustCompile(`^<\d+>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d+)Z `)
	p := rfc5424.NewParser() // strict: no WithBestEffort
	n := 0
	for _, r := range recs {
		msg := FormatRFC5424(r, "icu-monitor-7")
		m := secfrac.FindSubmatch(msg)
		if m == nil || len(m[1]) != 6 {
			t.Fatalf("record %d: header time is not RFC 3339 with six fractional digits: %.60s", r.Seq, msg)
		}
		parsed, err := p.Parse(msg)
		if err != nil {
			t.Fatalf("record %d: strict RFC 5424 parser refuses the export: %v\n%s", r.Seq, err, msg)
		}
		sm := parsed.(*rfc5424.SyslogMessage)
		if sm.Timestamp == nil || !sm.Timestamp.Equal(r.Time.Truncate(time.Microsecond)) {
			t.Errorf("record %d: header time %v, want %v", r.Seq, sm.Timestamp, r.Time.Truncate(time.Microsecond))
		}
		if sm.Facility == nil || *sm.Facility != syslogFacility || sm.Severity == nil || *sm.Severity != uint8(r.Severity) {
			t.Errorf("record %d: facility/severity %v/%v", r.Seq, sm.Facility, sm.Severity)
		}
		if sm.Hostname == nil || *sm.Hostname != "icu-monitor-7" || sm.Appname == nil || *sm.Appname != "medguard" || sm.MsgID == nil {
			t.Errorf("record %d: header %+v", r.Seq, sm)
		}
		sd := *sm.StructuredData
		if sd["medguard@32473"]["seq"] != strconv.FormatUint(r.Seq, 10) || sd["medguard@32473"]["cat"] != string(r.Category) {
			t.Errorf("record %d: structured data %v", r.Seq, sd)
		}
		// The record, with its full time and its MAC, is the message.
		if sm.Message == nil || !bytes.Equal([]byte(*sm.Message), r.Line()) {
			t.Errorf("record %d: message is not the stored line", r.Seq)
		}
		back, err := ParseRecord([]byte(*sm.Message))
		if err != nil || !back.Time.Equal(r.Time) {
			t.Errorf("record %d: stored time not kept: %v %v", r.Seq, err, back.Time)
		}
		if r.Category == CategoryAuth {
			n++
		}
	}
	if n != len(times) {
		t.Fatalf("checked %d exported events, want %d", n, len(times))
	}
	// A host name with characters RFC 5424 does not allow in HOSTNAME.
	msg := FormatRFC5424(recs[len(recs)-1], "icu monitor\"7]\\\u00e9")
	if _, err := p.Parse(msg); err != nil {
		t.Fatalf("strict RFC 5424 parser refuses the export with an odd host name: %v\n%s", err, msg)
	}
}
