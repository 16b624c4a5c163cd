package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/forward"
	"github.com/medguard/medguard/internal/forward/forwardtest"
)

// TestVerifyForwardedOnRsyslogOutput runs the command on what a real
// rsyslog relay wrote for two devices forwarding to it at once.
func TestVerifyForwardedOnRsyslogOutput(t *testing.T) {
	r := forwardtest.StartRsyslog(t, forwardtest.RsyslogOptions{})
	dir := t.TempDir()
	forwardtest.WriteFile(t, dir, "pass.txt", []byte(testPassphrase+"\n"))
	var keys []string
	total := uint64(0)
	for _, device := range []string{"icu-monitor-7", "icu-monitor-8"} {
		l, key := forwardtest.OpenLog(t, device)
		forwardtest.RecordN(t, l, 400)
		total += l.Last()
		kf := filepath.Join(dir, device+".age")
		forwardtest.WriteVerifierFile(t, kf, key, testPassphrase)
		keys = append(keys, "--key", kf)
		f, err := forward.New(forward.Config{Source: forward.LogSource(l), Device: device, Facility: 13,
			Destinations: []forward.Destination{{Name: "siem", Address: r.Addr(), RootCAs: r.CA.Pool(), ServerName: "localhost", Cursor: &forwardtest.MemCursor{}}}})
		if err != nil {
			t.Fatal(err)
		}
		go f.Run(context.Background())
		t.Cleanup(func() { f.Close() })
	}
	r.WaitLines(r.Out, int(total), 30*time.Second)
	r.Stop()

	verify := func(file string) (int, string) {
		var out, errOut bytes.Buffer
		args := append(append([]string{"log", "verify-forwarded", "--passphrase-file", filepath.Join(dir, "pass.txt")}, keys...), file)
		code := run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}, args)
		return code, out.String() + errOut.String()
	}
	if code, out := verify(r.Out); code != 0 || !strings.Contains(out, "icu-monitor-7: OK") || !strings.Contains(out, "icu-monitor-8: OK") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	lines := forwardtest.Lines(t, r.Out)
	var cut []string
	for _, l := range lines {
		if !(strings.Contains(l, "icu-monitor-8 medguard") && strings.Contains(l, `seq="200"`)) {
			cut = append(cut, l)
		}
	}
	p := forwardtest.WriteFile(t, dir, "cut.log", []byte(strings.Join(cut, "\n")+"\n"))
	if code, out := verify(p); code != exitTampered || !strings.Contains(out, "icu-monitor-8: DAMAGED") || !strings.Contains(out, "deleted at entry 200") {
		t.Fatalf("a removed line: exit %d:\n%s", code, out)
	}
}
