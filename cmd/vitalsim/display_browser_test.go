package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/testenv"
)

// The clinical display in a real browser (headless Chromium), under its
// CSP: waveforms and numbers while operational; the red full-screen
// warning with the cause when the device turns not suitable; a different
// warning when the daemon goes away.
func TestDisplayInBrowser(t *testing.T) {
	chromium := testenv.Tool(t, "chromium", "chromium")
	sock := filepath.Join(t.TempDir(), "local.sock")
	daemon := startFakeDaemon(t, sock, operational)
	p := newPoller(sock, 50*time.Millisecond)
	pctx, pcancel := context.WithCancel(context.Background())
	defer pcancel()
	go p.run(pctx)
	pat := newPatient(7)
	ts := httptest.NewServer((&server{poll: p, now: time.Now, vital: func() Vitals { return pat.step(time.Now()) }}).handler())
	defer ts.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	var problems []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || m.Type == "error" {
				mu.Lock()
				problems = append(problems, string(m.Type)+": "+m.Text)
				mu.Unlock()
			}
		}
	}()
	step := func(what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, acts...); err != nil {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("browser, %s: %v (console: %q)", what, err, problems)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}

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
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Fatalf("browser console: %q", problems)
	}
}
