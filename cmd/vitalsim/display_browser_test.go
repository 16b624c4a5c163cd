package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/testenv/browsertest"
)

// The clinical display in a real browser (headless Chromium), under its
// CSP: waveforms and numbers while operational; the red full-screen
// warning with the cause when the device turns not suitable; a different
// warning when the daemon goes away.
func TestDisplayInBrowser(t *testing.T) {
	br := browsertest.New(t, 60*time.Second, false)
	sock := filepath.Join(t.TempDir(), "local.sock")
	daemon := startFakeDaemon(t, sock, operational)
	p := newPoller(sock, 50*time.Millisecond)
	pctx, pcancel := context.WithCancel(context.Background())
	defer pcancel()
	go p.run(pctx)
	pat := newPatient(7)
	ts := httptest.NewServer((&server{poll: p, now: time.Now, vital: func() Vitals { return pat.step(time.Now()) }}).handler())
	defer ts.Close()

	step, text := br.Step, br.Text

	step("operational display", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#ecg")))
	deadline := time.Now().Add(10 * time.Second)
	for text("#hr") == "--" || text("#state") != "operational" {
		if time.Now().After(deadline) {
			t.Fatalf("no vitals shown: hr %q state %q", text("#hr"), text("#state"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if b := text("#banner"); !strings.Contains(b, "SIMULATED") {
		t.Fatalf("banner %q", b)
	}
	step("no overlay while operational", chromedp.WaitNotVisible(chromedp.CSS("#overlay")))

	t0 := time.Now()
	daemon.set(notSuitable)
	step("not-suitable overlay", chromedp.WaitVisible(chromedp.CSS("#overlay.not-suitable")))
	t.Logf("state change to full-screen warning in the browser: %v", time.Since(t0))
	if title, cause := text("#ov-title"), text("#ov-cause"); title != "NOT SUITABLE FOR CLINICAL USE" || !strings.Contains(cause, "bin/vitalsim was changed") {
		t.Fatalf("overlay shows %q / %q", title, cause)
	}

	daemon.set(operational)
	step("overlay gone again", chromedp.WaitNotVisible(chromedp.CSS("#overlay")))
	daemon.srv.Close()
	step("unreachable overlay", chromedp.WaitVisible(chromedp.CSS("#overlay.unreachable")))
	if title := text("#ov-title"); !strings.Contains(title, "UNKNOWN") {
		t.Fatalf("unreachable overlay title %q", title)
	}
	if problems := br.Problems(); len(problems) > 0 {
		t.Fatalf("browser console: %q", problems)
	}
}
