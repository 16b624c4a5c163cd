package forward

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// testEntry returns an entry whose line is the event's JSON, as a stand-in
// for the log's canonical line.
func testEntry(seq uint64) Entry {
	ev := eventlog.Event{
		Seq: seq, Time: time.Date(2026, 12, 3, 19, 30, 0, 123456789, time.UTC),
		BootID: "b00t-1", Code: "auth.login.failed", Category: eventlog.CategoryAuth,
		Severity: eventlog.SeverityWarning, Actor: "admin", Source: "10.0.0.7:51512",
		Message: `login failed: "bad password" [x] = | \ end`,
		Fields:  map[string]string{"attempt": "3"},
	}
	line, _ := json.Marshal(ev)
	return Entry{Event: ev, MAC: []byte{0xde, 0xad, 0xbe, 0xef, byte(seq)}, Line: line}
}

var testHeader = header{device: "icu-monitor-7", facility: 13}

func TestFormatRoundTrip(t *testing.T) {
	for _, f := range []Format{FormatRFC5424, FormatCEF} {
		t.Run(string(f), func(t *testing.T) {
			e := testEntry(42)
			s, err := f.build(testHeader, e)
			if err != nil {
				t.Fatal(err)
			}
			// PRI = facility 13 * 8 + warning (4).
			if !strings.HasPrefix(s, "<108>1 2026-12-03T19:30:00.123456Z icu-monitor-7 medguard - auth.login.failed [medguard@32473 ") {
				t.Errorf("header: %s", s)
			}
			r, err := ParseMessage([]byte(s))
			if err != nil {
				t.Fatalf("parse own message: %v\n%s", err, s)
			}
			want := Received{Format: f, Device: "icu-monitor-7", Seq: 42, Category: "auth", Boot: "b00t-1",
				MAC: e.MAC, Code: "auth.login.failed", Line: e.Line}
			if fmt.Sprint(*r) != fmt.Sprint(want) {
				t.Errorf("parsed\n%+v\nwant\n%+v", *r, want)
			}
		})
	}
}

func TestFormatRefusesBadEntries(t *testing.T) {
	e := testEntry(1)
	e.Event.Severity = 9
	if _, err := FormatRFC5424.build(testHeader, e); err == nil {
		t.Error("severity 9 accepted")
	}
	var fe *FormatError
	if _, err := FormatRFC5424.build(header{device: "has space", facility: 1}, testEntry(1)); !errors.As(err, &fe) {
		t.Errorf("device name with a space: err = %v, want FormatError", err)
	}
}

func TestMsgID(t *testing.T) {
	for in, want := range map[string]string{
		"":                                   "-",
		"a.b":                                "a.b",
		"with space\x00":                     "with_space_",
		strings.Repeat("x", 40):              strings.Repeat("x", 32),
		"configuration.change.network.rules": "configuration.change.network.rul",
	} {
		if got := msgID(in); got != want {
			t.Errorf("msgID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseMessageRejects(t *testing.T) {
	good, _ := FormatRFC5424.build(testHeader, testEntry(5))
	tests := map[string]string{
		"not syslog":   "hello",
		"no sd":        "<13>1 2026-12-03T19:30:00Z host medguard - x - text",
		"bad seq":      strings.Replace(good, `seq="5"`, `seq="x5"`, 1),
		"zero seq":     strings.Replace(good, `seq="5"`, `seq="0"`, 1),
		"bad mac":      strings.Replace(good, `mac="deadbeef05"`, `mac="zz"`, 1),
		"no device":    strings.Replace(strings.Replace(good, `device="icu-monitor-7"`, `devize="icu-monitor-7"`, 1), " icu-monitor-7 ", " - ", 1),
		"oversized":    good + strings.Repeat("x", MaxMessageSize),
		"cef no cs6":   "<13>1 2026-12-03T19:30:00Z host medguard - x [medguard@32473 device=\"d\" seq=\"1\" mac=\"00\"] CEF:0|a|b|c|d|e|f|rt=1",
		"cef no ext":   "<13>1 2026-12-03T19:30:00Z host medguard - x [medguard@32473 device=\"d\" seq=\"1\" mac=\"00\"] CEF:0|a|b",
		"no msg":       "<13>1 2026-12-03T19:30:00Z host medguard - x [medguard@32473 device=\"d\" seq=\"1\" mac=\"00\"]",
		"medguard app": "<13>1 2026-12-03T19:30:00Z host medguard - x - text",
	}
	for name, in := range tests {
		if _, err := ParseMessage([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseMessage([]byte("<13>1 2026-12-03T19:30:00Z host sshd 12 - - accepted")); !errors.Is(err, ErrNotMedguard) {
		t.Errorf("foreign message: err = %v, want ErrNotMedguard", err)
	}
}

func TestCEFEscaping(t *testing.T) {
	e := testEntry(7)
	e.Line = []byte(`{"msg":"a=b \\ c\nd cs6=evil"}`)
	s := cef(testHeader, e)
	got, ok := cefExtension(s, CEFEntryKey)
	if !ok || got != string(e.Line) {
		t.Fatalf("cs6 = %q, %v; want %q\n%s", got, ok, e.Line, s)
	}
	if strings.Count(s, "\n") != 0 {
		t.Error("newline in CEF record")
	}
}

func FuzzParseMessage(f *testing.F) {
	for _, fm := range []Format{FormatRFC5424, FormatCEF} {
		s, _ := fm.build(testHeader, testEntry(3))
		f.Add([]byte(s))
	}
	f.Add([]byte("<13>1 - - - - - -"))
	f.Add([]byte("<13>1 2026-12-03T19:30:00Z host medguard - x [medguard@32473 device=\"d\" seq=\"1\" mac=\"00\"] CEF:0|a\\|b|c|d|e|f|g|cs6=a\\=b x=1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseMessage(b)
		if err != nil {
			return
		}
		if r.Seq == 0 || r.Device == "" || len(r.Line) == 0 {
			t.Fatalf("accepted incomplete message: %+v", r)
		}
		if !bytes.Contains(b, []byte(r.Device)) {
			t.Fatalf("device %q not in input", r.Device)
		}
	})
}

func BenchmarkFormatRFC5424(b *testing.B) {
	e := testEntry(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FormatRFC5424.build(testHeader, e); err != nil {
			b.Fatal(err)
		}
	}
}
