package main

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/forward"
	"github.com/medguard/medguard/internal/forward/forwardtest"
)

// TestVerifyForwardedScripts runs testdata/forward/*.txtar in a work
// directory with what a SIEM receiver of two devices holds, generated
// here with the real event log (no key is committed):
//
//	pass.txt            the verifier files' passphrase
//	m7.age, m8.age      verifier files of icu-monitor-7 and icu-monitor-8
//	siem.log            both devices' messages interleaved, with resends
//	                    and lines of other programs, as rsyslog writes them
//	m7.log              icu-monitor-7's messages alone (CEF format)
//	removed.log         siem.log without icu-monitor-7's entry 20
//	changed.log         siem.log with icu-monitor-8's entry 30 changed
//	swapped-mac.log     siem.log with the MAC parameter of an entry replaced
//	forged.log          siem.log plus a forged icu-monitor-7 entry 41
func TestVerifyForwardedScripts(t *testing.T) {
	dir := t.TempDir()
	l7 := deviceLog(t, dir, "icu-monitor-7", 60)
	l8 := deviceLog(t, dir, "icu-monitor-8", 45)
	m7 := forwardtest.Messages(t, l7, "icu-monitor-7", forward.FormatRFC5424)
	m8 := forwardtest.Messages(t, l8, "icu-monitor-8", forward.FormatRFC5424)
	cef7 := forwardtest.Messages(t, l7, "icu-monitor-7", forward.FormatCEF)
	var siem []string
	for i := 0; i < max(len(m7), len(m8)); i++ {
		if i < len(m7) {
			siem = append(siem, m7[i])
		}
		if i < len(m8) {
			siem = append(siem, m8[i])
		}
		if i == 25 { // a reconnect: the last few entries sent again
			siem = append(siem, m7[20:26]...)
		}
		if i%17 == 0 {
			siem = append(siem, "<30>1 2026-12-03T20:00:00Z siem-relay sshd 4242 - - Accepted publickey for root")
		}
	}
	write := func(name string, lines []string) {
		forwardtest.WriteFile(t, dir, name, []byte(strings.Join(lines, "\n")+"\n"))
	}
	write("siem.log", siem)
	write("m7.log", cef7)
	write("removed.log", slices.DeleteFunc(slices.Clone(siem), func(l string) bool {
		return strings.Contains(l, "icu-monitor-7 medguard") && strings.Contains(l, `seq="20"`)
	}))
	change := func(name, device, seq string, f func(string) string) {
		out := slices.Clone(siem)
		for i, l := range out {
			if strings.Contains(l, device+" medguard") && strings.Contains(l, `seq="`+seq+`"`) {
				out[i] = f(l)
			}
		}
		write(name, out)
	}
	change("changed.log", "icu-monitor-8", "30", func(l string) string { return strings.Replace(l, "test event", "test Event", 1) })
	change("swapped-mac.log", "icu-monitor-7", "12", func(l string) string {
		i := strings.Index(l, `mac="`) + 5
		return l[:i] + strings.Repeat("0", 64) + l[i+64:]
	})
	forged := strings.Replace(strings.Replace(m7[40], `seq="41"`, `seq="41"`, 1), "test event", "all is well", 1)
	write("forged.log", append(slices.Clone(siem), forged))
	testscript.Run(t, testscript.Params{
		Dir: "testdata/forward",
		Setup: func(env *testscript.Env) error {
			for _, f := range []string{"pass.txt", "m7.age", "m8.age", "siem.log", "m7.log", "removed.log", "changed.log", "swapped-mac.log", "forged.log"} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(env.WorkDir, f), b, 0o600); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

// testPassphrase encrypts the verifier files of the forwarding tests; it
// is generated for each run (no credential is committed).
var testPassphrase = rand.Text()

// deviceLog records n events in a real log of device, writes its verifier
// file (dir/m7.age or dir/m8.age) and returns the (closed) log.
func deviceLog(t *testing.T, dir, device string, n int) *eventlog.Log {
	l, key := forwardtest.OpenLog(t, device)
	for i := range n {
		if _, err := l.Record(t.Context(), eventlog.Event{Code: "system.test", Category: eventlog.CategorySystem,
			Severity: eventlog.SeverityInfo, Actor: "system", Message: "test event " + string(rune('a'+i%26))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil { // writes a final checkpoint
		t.Fatal(err)
	}
	forwardtest.WriteFile(t, dir, "pass.txt", []byte(testPassphrase+"\n"))
	forwardtest.WriteVerifierFile(t, filepath.Join(dir, "m"+device[len(device)-1:]+".age"), key, testPassphrase)
	return l
}
