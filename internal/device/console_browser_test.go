package device

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/testenv/browsertest"
)

// The web console of the real device in a real browser (headless
// Chromium). Notifications: a user change made elsewhere (the CLI's bearer
// session) appears on the open page through the live stream without a
// reload, with who and old → new; acknowledging it with a comment from the
// page records it and the page shows who acknowledged it (issue 6,
// item 3); the Security Event Log page shows it and filters on the server;
// the software page names a signed file changed on disk.
func TestConsoleOnDevice(t *testing.T) {
	br := browsertest.New(t, 90*time.Second, true)
	cfg, _ := testConfig(t)
	d := start(t, cfg)
	c, tok := provision(t, d, cfg)
	base := "https://" + d.apiAddr

	ctx := br.Ctx
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step, text := br.Step, br.Text

	step("login",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#login-form input[name=user]"), "alice"),
		chromedp.SendKeys(css("#login-form input[name=password]"), adminPassword),
		chromedp.Click(css("#login-form button")),
		chromedp.WaitVisible(css("#nav")),
		chromedp.WaitVisible(css("#boot-report")))
	// The status page, shown first, lists every boot check.
	if r := text("#boot-report"); !strings.Contains(r, "state-database") || !strings.Contains(r, "settings") || strings.Contains(r, "failed") {
		t.Errorf("boot report on the status page:\n%s", r)
	}
	step("notifications page",
		chromedp.Navigate(base+"/#notifications"),
		chromedp.WaitVisible(css("#inbox")),
		chromedp.WaitVisible(css("#stream-state")))
	// The stream opens right after the page has drawn the inbox.
	for deadline := time.Now().Add(20 * time.Second); !strings.HasPrefix(text("#stream-state"), "Live"); {
		if time.Now().After(deadline) {
			t.Fatalf("the live stream did not open: %q", text("#stream-state"))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A user created through the API while the page is open.
	createUser := func(name string) {
		t.Helper()
		body := fmt.Sprintf(`{"name":%q,"role":"clinician","password":%q}`, name, rand.Text())
		if code, b := apiCall(t, c, d, tok, "POST", "/v1/users", body); code != http.StatusCreated {
			t.Fatalf("create user %s: %d %s", name, code, b)
		}
	}
	createUser("nightnurse")
	sent := time.Now()
	// The row of the change, found by its text as it appears.
	find := `[...document.querySelectorAll('#inbox tr')].find((tr) => tr.textContent.includes('user: – → nightnurse'))?.id || ''`
	row, err := chromedp.Run(ctx, chromedp.Poll[string](find, chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		t.Fatalf("the user change did not appear on the open page: %v", err)
	}
	t.Logf("user change shown in the browser %v after the API answered", time.Since(sent))
	if r := text("#" + row); !strings.Contains(r, "alice from 127.0.0.1:") || !strings.Contains(r, "role: – → clinician") {
		t.Errorf("the row lacks who or old → new:\n%s", r)
	}
	// A comment half typed survives the redraw when another notification
	// arrives on the stream.
	step("type a comment", chromedp.SendKeys(css("#"+row+" input[name=comment]"), "planned: "))
	createUser("daynurse")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('inbox').textContent.includes('user: – → daynurse')`,
		chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		t.Fatalf("the second user change did not appear: %v", err)
	}
	step("acknowledge from the page",
		chromedp.SendKeys(css("#"+row+" input[name=comment]"), "night shift"),
		chromedp.Click(css("#"+row+" button")))
	acked := fmt.Sprintf(`(document.getElementById(%q)?.textContent || '').includes('acknowledged by alice: planned: night shift')`, row)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](acked, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		t.Fatalf("the acknowledgement is not shown: %v (row: %q)", err, text("#"+row))
	}

	// The acknowledgement is an event in the log, with the comment.
	_, b := apiCall(t, c, d, tok, "GET", "/v1/logs?limit=50", "")
	if !strings.Contains(b, `"notify.acknowledged"`) || !strings.Contains(b, "planned: night shift") {
		t.Errorf("the acknowledgement is not in the log: %s", b)
	}

	// The Security Event Log page: newest first, the acknowledgement among
	// them; filtered by category on the server; older pages by cursor.
	step("event log page",
		chromedp.Navigate(base+"/#logs"),
		chromedp.WaitVisible(css("#log-table")))
	if s := text("#log-table"); !strings.Contains(s, "notify.acknowledged") || !strings.Contains(s, "planned: night shift") {
		t.Errorf("the log page lacks the acknowledgement:\n%s", s)
	}
	cats := `[...document.querySelectorAll('#log-table tr')].slice(1).map((tr) => tr.children[3].textContent).join(',')`
	step("filter by category",
		chromedp.SetValue(css("#log-filter select[name=category]"), "auth"),
		chromedp.Click(css("#log-filter button")))
	onlyAuth := `(() => { const c = ` + cats + `; return c !== '' && c.split(',').every((x) => x === 'auth'); })()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](onlyAuth, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](cats))
		t.Errorf("after filtering by auth the categories are %q: %v", got, err)
	}

	// The software page: verified at first; after a signed file is changed
	// on disk, the reloaded page names the file and the verdict changes.
	step("software page",
		chromedp.Navigate(base+"/#software"),
		chromedp.WaitVisible(css("#software-verdict")))
	if v := text("#software-verdict"); v != "verified" {
		t.Errorf("software verdict %q before any change", v)
	}
	f, err := os.OpenFile(filepath.Join(cfg.Config.Integrity.SoftwareRoot, "etc/supervisor.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("# changed\n")
	f.Close()
	for deadline := time.Now().Add(10 * time.Second); d.Machine.State() != NotSuitable; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("state %s 10 s after a change of a signed file", d.Machine.State())
		}
	}
	step("software page after the change", chromedp.Reload(), chromedp.WaitVisible(css("#software-findings")))
	if v, f := text("#software-verdict"), text("#software-findings"); v != "changed since boot" || !strings.Contains(f, "etc/supervisor.toml") {
		t.Errorf("after a change the page says %q with findings:\n%s", v, f)
	}

	for _, p := range br.Problems() {
		t.Errorf("browser console: %s", p)
	}
}
