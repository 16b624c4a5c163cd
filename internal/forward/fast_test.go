package forward

import (
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// TestFastFormatMatchesBuilder holds the forwarder's serializer to
// go-syslog's builder, byte for byte.
func TestFastFormatMatchesBuilder(t *testing.T) {
	for _, f := range []Format{FormatRFC5424, FormatCEF} {
		for seq := uint64(1); seq < 50; seq++ {
			e := testEntry(seq)
			e.Event.Time = e.Event.Time.Add(time.Duration(seq*seq*7919) * time.Nanosecond)
			e.Event.BootID = `b"o]o\t`[:seq%7]
			checkSame(t, f, testHeader, e)
		}
	}
}

func TestFastFormatMatchesBuilderWithNotification(t *testing.T) {
	for _, a := range []Annotation{
		{Code: "integrity.software.changed", Title: "Software changed", Severity: "critical", Audience: "admin,it",
			Cause: `/usr/bin/x does not match the manifest: "size" [differs] \ here`, Action: "Reinstall the release."},
		{Code: "x"},
		{Code: "config.change.users", Title: "Users or roles changed", Severity: "notice", Audience: "admin,it",
			Cause: "alice from 10.1.2.3:5: role", Action: "Check.", Changes: `role: clinician → admin; password: •••••• → ••••••; x: "]\`},
	} {
		h := testHeader
		h.annotate = func(eventlog.Event) (Annotation, bool) { return a, true }
		for _, f := range []Format{FormatRFC5424, FormatCEF} {
			checkSame(t, f, h, testEntry(3))
			b, _ := f.appendMessage(nil, h, testEntry(3))
			r, err := ParseMessage(b)
			if err != nil || r.Notification == nil || *r.Notification != a {
				t.Fatalf("notification did not round-trip: %v %+v\n%s", err, r, b)
			}
		}
	}
}

func checkSame(t *testing.T, f Format, h header, e Entry) {
	t.Helper()
	want, werr := f.build(h, e)
	got, gerr := f.appendMessage(nil, h, e)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("builder error %v, fast error %v for %+v", werr, gerr, e.Event)
	}
	if werr == nil && string(got) != want {
		t.Fatalf("fast serializer differs from go-syslog's builder:\n got %s\nwant %s", got, want)
	}
}

func FuzzFastFormatMatchesBuilder(f *testing.F) {
	f.Add("icu-monitor-7", "boot", "auth", "a.b", uint8(4), int64(1796326419704812345), []byte(`{"seq":1}`), []byte{1, 2}, "", "")
	f.Add("h", "b\"]\\", "x y", "", uint8(0), int64(0), []byte("CEF:0|x"), []byte{}, "", "")
	f.Add("h", "b", "c", "d", uint8(3), int64(5), []byte("x"), []byte{9}, "cause \"]", "act")
	f.Fuzz(func(t *testing.T, device, boot, cat, code string, sev uint8, nanos int64, line, mac []byte, cause, action string) {
		if sev > 7 {
			return
		}
		e := Entry{Event: eventlog.Event{Seq: 7, Time: time.Unix(0, nanos), BootID: boot, Category: eventlog.Category(cat),
			Code: code, Severity: eventlog.Severity(sev)}, MAC: mac, Line: line}
		if e.Event.Time.Year() < 1 || e.Event.Time.Year() > 9999 {
			return
		}
		h := header{device: device, facility: 13}
		if cause != "" {
			h.annotate = func(eventlog.Event) (Annotation, bool) {
				return Annotation{Code: code, Title: "t", Severity: "error", Audience: "it", Cause: cause, Action: action}, true
			}
		}
		checkSame(t, FormatRFC5424, h, e)
	})
}

func BenchmarkFormatFast(b *testing.B) {
	e := testEntry(1)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = FormatRFC5424.appendMessage(buf[:0], testHeader, e)
	}
}
