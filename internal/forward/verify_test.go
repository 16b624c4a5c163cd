package forward_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/forward"
	"github.com/medguard/medguard/internal/forward/forwardtest"
)

func smallLog(t testing.TB, n int) ([]string, forward.DeviceKey) {
	l, key := forwardtest.OpenLog(t, "icu-monitor-7")
	for range n {
		if _, err := l.Record(context.Background(), eventlog.Event{Code: "system.test", Category: eventlog.CategorySystem,
			Severity: eventlog.SeverityInfo, Message: "test event"}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	return forwardtest.Messages(t, l, "icu-monitor-7", forward.FormatRFC5424), key
}

func verifyLines(key forward.DeviceKey, lines []string) forward.Result {
	v := forward.NewVerifier([]forward.DeviceKey{key})
	for i, l := range lines {
		v.AddLine("f", i+1, []byte(l))
	}
	return v.Finish()
}

// Entries arriving out of order (within the window) and resent verify;
// the same set with one missing does not.
func TestVerifierOrderAndDuplicates(t *testing.T) {
	msgs, key := smallLog(t, 300)
	shuffled := append([]string(nil), msgs...)
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	shuffled = append(shuffled, msgs[100:150]...)
	res := verifyLines(key, shuffled)
	if !res.OK || res.Devices[0].Duplicates != 50 || res.Devices[0].LastSeq != uint64(len(msgs)) {
		t.Fatalf("shuffled with resends: %+v", res.Devices[0])
	}
	res = verifyLines(key, append(append([]string(nil), shuffled[:10]...), shuffled[11:]...))
	if res.OK {
		t.Fatal("a missing entry was not found")
	}
}

func FuzzVerifier(f *testing.F) {
	msgs, key := smallLog(f, 20)
	f.Add([]byte(msgs[0] + "\n" + msgs[1]))
	f.Add([]byte(msgs[3] + "\n" + msgs[3] + "\n<13>1 - h app - - - x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v := forward.NewVerifier([]forward.DeviceKey{key})
		for i, l := range bytes.Split(data, []byte("\n")) {
			v.AddLine("fuzz", i+1, l)
		}
		res := v.Finish()
		// Entries from the test log verify only if they are genuine: a
		// result that claims OK must cover only lines of the real log.
		if res.OK {
			for _, l := range bytes.Split(data, []byte("\n")) {
				m, err := forward.ParseMessage(bytes.TrimRight(l, "\r"))
				if err != nil || m.Device != "icu-monitor-7" {
					continue
				}
				genuine := false
				for _, g := range msgs {
					if r, _ := forward.ParseMessage([]byte(g)); r != nil && string(r.Line) == string(m.Line) {
						genuine = true
					}
				}
				if !genuine {
					t.Fatalf("verified a line that is not in the log: %s", l)
				}
			}
		}
	})
}

// What the event log's own export writes ("medguard log export --format
// rfc5424": nanosecond timestamps, no device or MAC parameter) verifies too.
func TestVerifierReadsTheLogsExport(t *testing.T) {
	l, key := forwardtest.OpenLog(t, "icu-monitor-7")
	for range 50 {
		l.Record(context.Background(), eventlog.Event{Code: "system.test", Category: eventlog.CategorySystem, Severity: eventlog.SeverityInfo, Message: "x"})
	}
	recs, err := l.Read(1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range recs {
		lines = append(lines, string(eventlog.FormatRFC5424(r, "icu-monitor-7")))
	}
	if res := verifyLines(key, lines); !res.OK || res.Devices[0].LastSeq != recs[len(recs)-1].Seq {
		t.Fatalf("export does not verify: %+v", res)
	}
}

// Messages that lie about the entry they carry, or carry a line that is
// not the log's canonical bytes, do not verify.
func TestVerifierRefusesLyingMessages(t *testing.T) {
	msgs, key := smallLog(t, 30)
	replace := func(i int, m string) []string {
		out := append([]string(nil), msgs...)
		out[i] = m
		return out
	}
	for _, tc := range []struct {
		name  string
		lines []string
		seq   uint64
		want  string
	}{
		// Entry 5 relabelled as 7, to hide that 7 was removed.
		{"relabelled", replace(6, strings.Replace(msgs[4], `seq="5"`, `seq="7"`, 1)), 7, "carries entry 5"},
		// The same JSON, not in canonical form.
		{"non-canonical", replace(8, strings.Replace(msgs[8], `{"seq":9,`, `{"seq": 9,`, 1)), 9, ""},
	} {
		if tc.lines[tc.seq-1] == msgs[tc.seq-1] {
			t.Fatalf("%s: the test did not change the message", tc.name)
		}
		res := verifyLines(key, tc.lines)
		d := res.Devices[0]
		if res.OK || d.First == nil || d.First.Seq != tc.seq || !strings.Contains(d.First.Detail, tc.want) {
			t.Errorf("%s: verification says %+v, want damage at %d", tc.name, d.First, tc.seq)
		}
	}
}
