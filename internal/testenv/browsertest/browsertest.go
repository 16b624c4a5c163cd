// Package browsertest drives a real headless Chromium for the integration
// tests of medguard's web pages (the console, the clinical display): it
// starts the browser, collects what the page reports on its console
// (exceptions and errors, e.g. a CSP violation) and runs steps that fail
// the test with that report. Chromium comes from Debian's chromium
// package; without it the test is skipped, or fails when integration
// tests are required (testenv).
package browsertest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/testenv"
)

// Browser is one headless Chromium with one tab, alive until the test
// ends.
type Browser struct {
	t testing.TB
	// Ctx is the tab's context, for chromedp actions the helpers do not
	// cover; it ends after the timeout given to New.
	Ctx context.Context

	mu       sync.Mutex // guards problems
	problems []string
}

// New starts Chromium for t with a tab that lives at most timeout. With
// insecureTLS the browser accepts any certificate (a device's self-signed
// one).
func New(t testing.TB, timeout time.Duration, insecureTLS bool) *Browser {
	t.Helper()
	chromium := testenv.Tool(t, "chromium", "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless)
	if insecureTLS {
		opts = append(opts, chromedp.Flag("ignore-certificate-errors", true))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	b := &Browser{t: t, Ctx: ctx}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || m.Type == "error" {
				b.mu.Lock()
				b.problems = append(b.problems, string(m.Type)+": "+m.Text)
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// Step runs acts and fails the test, naming what and the page's console
// problems so far, if one of them fails.
func (b *Browser) Step(what string, acts ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, acts...); err != nil {
		b.t.Fatalf("browser, %s: %v (console: %q)", what, err, b.Problems())
	}
}

// Text returns the text of the element sel selects, failing the test if
// there is none.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

// Problems returns the exceptions and errors the page reported on its
// console so far.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}
