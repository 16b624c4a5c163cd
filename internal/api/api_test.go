package api

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/auth"
)

// concrete fills a route pattern's wildcards.
func concrete(pattern string) string {
	r := strings.NewReplacer("{$}", "", "{name}", "alice", "{id}", "0123456789abcdef", "{file}", "app.js")
	return r.Replace(pattern)
}

func bodyFor(method string) any {
	if method == "GET" || method == "DELETE" {
		return nil
	}
	return map[string]any{}
}

// Every route declares a valid permission; a route without one cannot be
// added.
func TestEveryRouteHasAPermission(t *testing.T) {
	e := newEnv(t)
	rs := e.srv.Routes()
	if len(rs) < 15 {
		t.Fatalf("only %d routes", len(rs))
	}
	for _, r := range rs {
		if !r.Perm.Valid() {
			t.Errorf("%s %s: permission %q", r.Method, r.Pattern, r.Perm)
		}
		if r.Perm == auth.PermPublic && !slices.Contains([]string{"/{$}", "/favicon.ico", "/console/{file}", "/v1/status", "/v1/policy", "/v1/setup", "/v1/login"}, r.Pattern) {
			t.Errorf("%s %s is public", r.Method, r.Pattern)
		}
	}
	if err := e.srv.Handle("GET", "/v1/x", "", http.NotFoundHandler()); err == nil {
		t.Fatal("a route without permission was accepted")
	}
}

// Attack: before provisioning, no route but setup, status (and the
// console's files) answers; common default credentials get nothing.
func TestNothingAnswersBeforeProvisioning(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, r := range e.srv.Routes() {
		a := e.do(c, r.Method, concrete(r.Pattern), bodyFor(r.Method))
		if r.Provisioning {
			if a.code() == codeNotProvisioned {
				t.Errorf("%s %s refused before provisioning", r.Method, r.Pattern)
			}
			continue
		}
		if a.status != http.StatusServiceUnavailable || a.code() != codeNotProvisioned {
			t.Errorf("%s %s before provisioning: %d %s", r.Method, r.Pattern, a.status, a.body)
		}
	}
	for _, p := range []string{"/v1/nothing", "/admin", "/v1/users/../users"} {
		if a := e.do(c, "GET", p, nil); a.code() != codeNotProvisioned {
			t.Errorf("GET %s: %d %s", p, a.status, a.body)
		}
	}
	for _, cr := range [][2]string{{"admin", "admin"}, {"root", "root"}, {"admin", "password"}, {"service", "service"}, {"admin", ""}} {
		a := e.do(c, "POST", "/v1/login", Credentials{User: cr[0], Password: cr[1]})
		if a.status == http.StatusOK || a.code() != codeNotProvisioned {
			t.Errorf("login %s/%s: %d %s", cr[0], cr[1], a.status, a.body)
		}
	}
	var st map[string]any
	e.do(c, "GET", "/v1/status", nil).json(t, &st)
	if len(st) != 2 || st["provisioned"] != false || st["state"] != "degraded" {
		t.Fatalf("anonymous status: %v", st)
	}
}

// Attack: TLS 1.2 and lower are refused; plaintext HTTP gets nothing.
func TestOnlyTLS13(t *testing.T) {
	e := newEnv(t)
	addr := strings.TrimPrefix(e.url, "https://")
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12} {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: e.pki.pool, MinVersion: v, MaxVersion: v})
		if err == nil {
			c.Close()
			t.Errorf("TLS version %x accepted", v)
		}
	}
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: e.pki.pool})
	if err != nil {
		t.Fatal(err)
	}
	if v := c.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Fatalf("negotiated %x", v)
	}
	c.Close()
	r, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/v1/status")
	if err == nil {
		defer r.Body.Close()
		if r.StatusCode == http.StatusOK {
			t.Fatal("plaintext HTTP answered 200")
		}
	}
}

// Attack: a clinician reaches no admin route — walk them all.
func TestClinicianReachesNoAdminRoute(t *testing.T) {
	e := newEnv(t)
	admin := e.provision()
	a := e.do(e.client(), "POST", "/v1/users", NewUser{Name: "nurse", Role: auth.RoleClinician, Password: nursePW}, bearer(admin)...)
	if a.status != http.StatusCreated {
		t.Fatalf("create nurse: %d %s", a.status, a.body)
	}
	nurse := e.login("nurse", nursePW)
	c := e.client()
	denied := 0
	for _, r := range e.srv.Routes() {
		if auth.RoleClinician.Allows(r.Perm) {
			continue
		}
		denied++
		a := e.do(c, r.Method, concrete(r.Pattern), bodyFor(r.Method), bearer(nurse)...)
		if a.status != http.StatusForbidden || a.code() != string(auth.KindForbidden) {
			t.Errorf("clinician %s %s: %d %s", r.Method, r.Pattern, a.status, a.body)
		}
		// Without a session, the answer is 401.
		if a := e.do(c, r.Method, concrete(r.Pattern), bodyFor(r.Method)); a.status != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s: %d %s", r.Method, r.Pattern, a.status, a.body)
		}
	}
	if denied < 8 {
		t.Fatalf("only %d admin routes walked", denied)
	}
	// What a clinician may do still works.
	var st map[string]any
	e.do(c, "GET", "/v1/status", nil, bearer(nurse)...).json(t, &st)
	if st["device"] != "icu-monitor-7" || st["boot"] == nil {
		t.Fatalf("clinician status: %v", st)
	}
}

// cookieLogin logs in as the console does and returns the client and the
// CSRF token.
func (e *env) cookieLogin(user, pw string) (*http.Client, string) {
	e.t.Helper()
	c := e.client()
	a := e.do(c, "POST", "/v1/login", Credentials{User: user, Password: pw, Kind: "cookie"})
	var s SessionAnswer
	a.json(e.t, &s)
	if a.status != http.StatusOK || s.CSRFToken == "" || s.Token != "" {
		e.t.Fatalf("cookie login: %d %s", a.status, a.body)
	}
	sc := a.header.Get("Set-Cookie")
	for _, want := range []string{SessionCookie + "=", "Path=/", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(sc, want) {
			e.t.Fatalf("cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Domain") {
		e.t.Fatalf("cookie %q has a Domain", sc)
	}
	return c, s.CSRFToken
}

// Attack: a state-changing request of a cookie session without the CSRF
// token, with a wrong one, or marked cross-site, is refused.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	e.provision()
	c, csrf := e.cookieLogin("alice", adminPW)
	if a := e.do(c, "GET", "/v1/session", nil); a.status != http.StatusOK {
		t.Fatalf("cookie session GET: %d %s", a.status, a.body)
	}
	for _, h := range [][]string{nil, {CSRFHeader, "wrong"}, {CSRFHeader, csrf, "Sec-Fetch-Site", "cross-site"}} {
		a := e.do(c, "POST", "/v1/logout", nil, h...)
		if a.status != http.StatusForbidden || a.code() != codeCSRF {
			t.Errorf("logout with %v: %d %s", h, a.status, a.body)
		}
	}
	if a := e.do(c, "POST", "/v1/users", NewUser{Name: "eve", Role: auth.RoleAdmin, Password: "an attacker's long passphrase"}); a.code() != codeCSRF {
		t.Fatalf("create user without CSRF: %d %s", a.status, a.body)
	}
	// Another origin is refused even with the token, and a login from
	// another origin too (login CSRF).
	if a := e.do(c, "POST", "/v1/logout", nil, CSRFHeader, csrf, "Origin", "https://evil.example"); a.code() != codeCSRF {
		t.Errorf("cross-origin logout: %d %s", a.status, a.body)
	}
	if a := e.do(e.client(), "POST", "/v1/login", Credentials{User: "alice", Password: adminPW, Kind: "cookie"}, "Origin", "https://evil.example"); a.code() != codeCSRF {
		t.Errorf("cross-origin login: %d %s", a.status, a.body)
	}
	if a := e.do(c, "POST", "/v1/logout", nil, CSRFHeader, csrf, "Sec-Fetch-Site", "same-origin", "Origin", e.url); a.status != http.StatusNoContent {
		t.Fatalf("logout with CSRF token: %d %s", a.status, a.body)
	}
	if a := e.do(c, "GET", "/v1/session", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("session after logout: %d %s", a.status, a.body)
	}
}

// Attack: a session cookie planted before login is not promoted, and a
// victim who logs in with an attacker's planted (valid) session gets a new
// one while the planted one ends.
func TestNoSessionFixation(t *testing.T) {
	e := newEnv(t)
	e.provision()
	attacker, _ := e.cookieLogin("alice", adminPW)
	u, _ := http.NewRequest("GET", e.url, nil)
	planted := attacker.Jar.Cookies(u.URL)[0].Value
	victim := e.client()
	victim.Jar.SetCookies(u.URL, []*http.Cookie{{Name: SessionCookie, Value: planted, Path: "/"}})
	a := e.do(victim, "POST", "/v1/login", Credentials{User: "alice", Password: adminPW, Kind: "cookie"})
	if a.status != http.StatusOK {
		t.Fatalf("login: %d %s", a.status, a.body)
	}
	now := victim.Jar.Cookies(u.URL)[0].Value
	if now == planted {
		t.Fatal("the planted session token was kept at login")
	}
	if a := e.do(attacker, "GET", "/v1/session", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("the planted session survived the victim's login: %d", a.status)
	}
	// A bearer token cannot be used as a cookie, nor the reverse.
	tok := e.login("alice", adminPW)
	victim.Jar.SetCookies(u.URL, []*http.Cookie{{Name: SessionCookie, Value: tok, Path: "/"}})
	if a := e.do(victim, "GET", "/v1/session", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("bearer token accepted as cookie: %d", a.status)
	}
	if a := e.do(e.client(), "GET", "/v1/session", nil, bearer(now)...); a.status != http.StatusUnauthorized {
		t.Fatalf("cookie token accepted as bearer: %d", a.status)
	}
}

// Attack: a token is refused after logout, idle timeout, absolute timeout
// and password change.
func TestTokenRefusedAfterEnd(t *testing.T) {
	e := newEnv(t)
	admin := e.provision()
	c := e.client()
	check := func(tok, why string) {
		t.Helper()
		if a := e.do(c, "GET", "/v1/session", nil, bearer(tok)...); a.status != http.StatusUnauthorized || a.code() != "unauthenticated" {
			t.Errorf("token %s: %d %s", why, a.status, a.body)
		}
	}
	tok := e.login("alice", adminPW)
	e.do(c, "POST", "/v1/logout", nil, bearer(tok)...)
	check(tok, "after logout")

	tok = e.login("alice", adminPW)
	e.clk.Advance(16 * time.Minute)
	check(tok, "after idle timeout")
	check(admin, "of setup after idle timeout")

	tok = e.login("alice", adminPW)
	for range 12 * 4 {
		e.clk.Advance(15 * time.Minute)
		e.do(c, "GET", "/v1/session", nil, bearer(tok)...)
	}
	e.clk.Advance(time.Minute)
	check(tok, "after absolute timeout")

	tok = e.login("alice", adminPW)
	other := e.login("alice", adminPW)
	a := e.do(c, "POST", "/v1/password", PasswordChange{Current: adminPW, New: "a completely new passphrase"}, bearer(tok)...)
	if a.status != http.StatusOK {
		t.Fatalf("password change: %d %s", a.status, a.body)
	}
	check(tok, "after password change")
	check(other, "of another session after password change")
	var s SessionAnswer
	a.json(t, &s)
	if a := e.do(c, "GET", "/v1/session", nil, bearer(s.Token)...); a.status != http.StatusOK {
		t.Fatalf("new token after password change: %d", a.status)
	}
}

// Attack: weak and blocklisted passwords are refused with the reason.
func TestWeakPasswordsRefusedWithReason(t *testing.T) {
	e := newEnv(t)
	code := <-e.codes
	for pw, reason := range map[string]string{
		"short":                      "too_short",
		"alice-password-for-device":  "context",
		"1qaz2wsx3edc4rfv":           "blocklisted",
		"my icu-monitor-7 password":  "context",
		"medguard medguard medguard": "context",
	} {
		a := e.do(e.client(), "POST", "/v1/setup", SetupRequest{Code: code, User: "alice", Password: pw})
		var b ErrorBody
		a.json(t, &b)
		if a.status != http.StatusUnprocessableEntity || b.Error.Code != "weak_password" || b.Error.Reason != reason || b.Error.Message == "" {
			t.Errorf("setup with %q: %d %s", pw, a.status, a.body)
		}
	}
}

func TestSecurityHeadersAndLimits(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, p := range []string{"/", "/v1/status", "/v1/nothing"} {
		a := e.do(c, "GET", p, nil)
		for _, h := range []string{"Strict-Transport-Security", "Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
			if a.header.Get(h) == "" {
				t.Errorf("GET %s: no %s", p, h)
			}
		}
		if csp := a.header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
	}
	if a := e.do(c, "GET", "/", nil); a.status != 200 || !strings.Contains(string(a.body), "/console/app.js") || strings.Contains(string(a.body), "<script>") {
		t.Fatalf("console index: %d", a.status)
	}
	code := <-e.codes
	big := fmt.Sprintf(`{"code":%q,"user":"alice","password":"%s"}`, code, strings.Repeat("x", 70<<10))
	if a := e.do(c, "POST", "/v1/setup", big); a.status != http.StatusRequestEntityTooLarge || a.code() != codeTooLarge {
		t.Errorf("large body: %d %s", a.status, a.body)
	}
	if a := e.do(c, "POST", "/v1/setup", `{"code":"x","user":"alice","password":"p","admin":true}`); a.status != 400 || a.code() != codeBadRequest {
		t.Errorf("unknown field: %d %s", a.status, a.body)
	}
	if a := e.do(c, "POST", "/v1/setup", `{"code":"x"} {}`); a.status != 400 {
		t.Errorf("trailing data: %d %s", a.status, a.body)
	}
	if a := e.do(c, "POST", "/v1/setup", nil, "Content-Type", "application/x-www-form-urlencoded"); a.status != http.StatusUnsupportedMediaType {
		t.Errorf("form body: %d %s", a.status, a.body)
	}
	if a := e.do(c, "GET", "/v1/status", nil, "X-Big", strings.Repeat("h", 16<<10)); a.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("large header: %d", a.status)
	}
	// The setup code still works after all that: nothing was consumed.
	if a := e.do(c, "POST", "/v1/setup", SetupRequest{Code: code, User: "alice", Password: adminPW}); a.status != http.StatusCreated {
		t.Fatalf("setup after bad requests: %d %s", a.status, a.body)
	}
}

// A slow client that never finishes its headers is cut off.
func TestSlowHeadersTimeOut(t *testing.T) {
	e := newEnv(t, func(_ *auth.Config, c *Config) { c.RequestTimeout = time.Second })
	conn, err := tls.Dial("tcp", strings.TrimPrefix(e.url, "https://"), &tls.Config{RootCAs: e.pki.pool})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("GET /v1/status HTTP/1.1\r\nHost: x\r\n"))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	start := time.Now()
	_, err = conn.Read(buf)
	for err == nil {
		_, err = conn.Read(buf)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server kept a half-sent request open for %v", time.Since(start))
	}
}

// Attack: the routes other parts mount (logs, software, keys, network,
// configuration, notifications) pass the same guard: for every permission
// a clinician lacks, a route declared with it refuses the clinician on
// every method and never runs its handler; a cookie session without a
// CSRF token is refused before it too.
func TestClinicianReachesNoMountedRoute(t *testing.T) {
	e := newEnv(t)
	admin := e.provision()
	if a := e.do(e.client(), "POST", "/v1/users", NewUser{Name: "nurse", Role: auth.RoleClinician, Password: nursePW}, bearer(admin)...); a.status != http.StatusCreated {
		t.Fatalf("create nurse: %d %s", a.status, a.body)
	}
	nurse := e.login("nurse", nursePW)
	s, err := New(Config{Auth: e.auth, Status: fakeStatus{}, Events: e.ev, Listen: "127.0.0.1:0",
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &e.pki.server, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]bool{}
	var mu sync.Mutex
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	for _, p := range auth.Permissions {
		for _, m := range methods {
			path := "/v1/mounted/" + string(p)
			if err := s.Handle(m, path, p, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				mu.Lock()
				ran[m+" "+path] = true
				mu.Unlock()
				w.WriteHeader(http.StatusNoContent)
			})); err != nil {
				t.Fatal(err)
			}
		}
	}
	h := s.Handler()
	denied := 0
	for _, p := range auth.Permissions {
		for _, m := range methods {
			path := "/v1/mounted/" + string(p)
			req := httptest.NewRequest(m, path, strings.NewReader("{}"))
			req.RemoteAddr = "192.0.2.70:1000"
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+nurse)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if auth.RoleClinician.Allows(p) {
				if w.Code != http.StatusNoContent {
					t.Errorf("clinician %s %s (%s, allowed): %d %s", m, path, p, w.Code, w.Body)
				}
				continue
			}
			denied++
			if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), `"forbidden"`) {
				t.Errorf("clinician %s %s (%s): %d %s", m, path, p, w.Code, w.Body)
			}
			if ran[m+" "+path] {
				t.Errorf("clinician %s %s (%s): the handler ran", m, path, p)
			}
		}
	}
	if want := (len(auth.Permissions) - len(auth.RoleClinician.Grants()) - 1) * len(methods); denied != want {
		t.Fatalf("walked %d denied routes, want %d", denied, want)
	}
}
