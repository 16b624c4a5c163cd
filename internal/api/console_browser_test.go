package api

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/testenv/browsertest"
)

// The console in a real browser (headless Chromium): provisioning through
// the setup form, status, logout and login, with the strict CSP in force
// and the session cookie out of JavaScript's reach.
func TestConsoleInBrowser(t *testing.T) {
	br := browsertest.New(t, 60*time.Second, true)
	e := newEnv(t)
	code := <-e.codes

	ctx := br.Ctx
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step, text := br.Step, br.Text
	step("setup form",
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible(css("#setup-form")),
		chromedp.SendKeys(css("#setup-form input[name=code]"), strings.ToLower(code)),
		chromedp.SendKeys(css("#setup-form input[name=user]"), "alice"),
		chromedp.SendKeys(css("#setup-form input[name=password]"), adminPW),
		chromedp.Click(css("#setup-form button")),
		chromedp.WaitVisible(css("#nav")),
		chromedp.WaitVisible(css(".state-degraded")))
	if who, state := text("#who"), text(".state-degraded"); who != "alice (admin)" || state != "degraded" {
		t.Fatalf("console shows %q, state %q", who, state)
	}
	cookies, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.cookie"))
	if err != nil || cookies != "" {
		t.Fatalf("the session cookie is readable by JavaScript: %q, %v", cookies, err)
	}
	step("logout and login",
		chromedp.Click(css("#logout")),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#login-form input[name=user]"), "alice"),
		chromedp.SendKeys(css("#login-form input[name=password]"), adminPW),
		chromedp.Click(css("#login-form button")),
		chromedp.WaitVisible(css(".state-degraded")))
	// A critical page action: creating a user, which works right after the
	// login (fresh authentication) and sends the CSRF token.
	step("users page",
		chromedp.Navigate(e.url+"/#users"),
		chromedp.WaitVisible(css("#page-tools form")),
		chromedp.SendKeys(css("#page-tools input[name=name]"), "nurse"),
		chromedp.SendKeys(css("#page-tools input[name=password]"), nursePW),
		chromedp.Click(css("#page-tools form button")),
		chromedp.WaitVisible(css("#message.ok")))
	if m := text("#message"); !strings.Contains(m, "nurse created") {
		t.Fatalf("after creating a user: %q", m)
	}
	// A role change from the users page (a critical action, fresh login).
	step("change the nurse's role",
		chromedp.WaitVisible(css(`select[aria-label="role of nurse"]`)),
		chromedp.SetValue(css(`select[aria-label="role of nurse"]`), "technician"),
		chromedp.Click(css(`select[aria-label="role of nurse"] + button`)),
		chromedp.WaitVisible(css("#message.ok")))
	if m := text("#message"); !strings.Contains(m, "nurse is now technician") {
		t.Fatalf("after changing a role: %q", m)
	}
	if u, err := e.auth.User("nurse"); err != nil || u.Role != auth.RoleTechnician {
		t.Fatalf("the device has nurse as %+v (%v), want technician", u, err)
	}
	for _, p := range br.Problems() {
		t.Errorf("browser console: %s", p)
	}
}
