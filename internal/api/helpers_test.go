package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/eventlog/eventlogtest"
	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/state"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fakeStatus struct{}

func (fakeStatus) Status() DeviceStatus {
	return DeviceStatus{Device: "icu-monitor-7", State: "degraded", Since: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC),
		Cause: "event log forwarding interrupted",
		Warnings: []Warning{{Code: "forward.down", Severity: "warning", Title: "SIEM unreachable", Cause: "no TCP connection",
			Action: "check the SIEM", Since: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}},
		Boot: map[string]any{"checks": []string{"keystore", "eventlog", "manifest"}, "ok": true}}
}

// pki is a test CA with the device's certificate.
type pki struct {
	caKey  *ecdsa.PrivateKey
	ca     *x509.Certificate
	server tls.Certificate
	pool   *x509.CertPool
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &pki{caKey: k, ca: ca, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.server = p.issue(t, pkix.Name{CommonName: "icu-monitor-7"}, x509.ExtKeyUsageServerAuth)
	return p
}

func (p *pki) issue(t testing.TB, subj pkix.Name, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: subj, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &k.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

type env struct {
	t     testing.TB
	srv   *Server
	auth  *auth.Auth
	ev    *eventlogtest.Memory
	clk   *clock
	pki   *pki
	url   string
	sock  string
	codes chan string
}

type opt func(*auth.Config, *Config)

var cheap = auth.Params{Time: 1, MemoryKiB: 64, Threads: 1}

func newEnv(t testing.TB, opts ...opt) *env {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	st, err := state.NewMemory(keystore.NewSecret(key))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ev: &eventlogtest.Memory{}, clk: &clock{t: time.Now()}, pki: newPKI(t), codes: make(chan string, 16)}
	acfg := auth.Config{Store: st, Events: e.ev, Now: e.clk.Now, StateDir: t.TempDir(), DeviceName: "icu-monitor-7",
		OnSetupCode:       func(c string, _ time.Time) { e.codes <- c },
		MinPasswordLength: 15, Argon2: cheap, MaxConcurrentHashes: 2,
		IdleTimeout: 15 * time.Minute, AbsoluteTimeout: 12 * time.Hour, ReauthWindow: 5 * time.Minute,
		SetupCodeLifetime: 30 * time.Minute, AccountMaxDelay: 30 * time.Second, SourceMaxDelay: 15 * time.Minute,
		MaxConsecutiveFailures: 100}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Status: fakeStatus{}, Events: e.ev, Listener: ln, Socket: filepath.Join(t.TempDir(), "api.sock"), DeviceName: "icu-monitor-7",
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &e.pki.server, nil },
		MaxBodyBytes:   64 << 10, MaxHeaderBytes: 8 << 10, RequestTimeout: 30 * time.Second}
	for _, o := range opts {
		o(&acfg, &cfg)
	}
	a, err := auth.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth = a
	e.sock = cfg.Socket
	e.auth = a
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = s
	e.url = "https://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for i := 0; cfg.Socket != ""; i++ { // wait until the socket listens
		if c, err := net.Dial("unix", cfg.Socket); err == nil {
			c.Close()
			break
		}
		if i > 200 {
			t.Fatal("local API socket does not listen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		a.Close()
	})
	return e
}

// client is an HTTPS client that trusts the test CA, with a cookie jar.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pki.pool, MinVersion: tls.VersionTLS13}}}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) code() string {
	var b ErrorBody
	json.Unmarshal(a.body, &b)
	return b.Error.Code
}

func (a answer) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d %s: %v", a.status, a.body, err)
	}
}

// do sends a request; hdr holds header pairs.
func (e *env) do(c *http.Client, method, path string, body any, hdr ...string) answer {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = bytes.NewReader([]byte(s))
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return answer{r.StatusCode, r.Header, b}
}

// Test accounts get passwords generated per run (no password is committed).
var adminPW = rand.Text()
var nursePW = rand.Text()

// provision sets the device up over the API and returns the admin's
// bearer token.
func (e *env) provision() string {
	e.t.Helper()
	code := <-e.codes
	a := e.do(e.client(), "POST", "/v1/setup", SetupRequest{Code: code, User: "alice", Password: adminPW})
	if a.status != http.StatusCreated {
		e.t.Fatalf("setup: %d %s", a.status, a.body)
	}
	var s SessionAnswer
	a.json(e.t, &s)
	return s.Token
}

func (e *env) login(user, pw string) string {
	e.t.Helper()
	a := e.do(e.client(), "POST", "/v1/login", Credentials{User: user, Password: pw})
	if a.status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", user, a.status, a.body)
	}
	var s SessionAnswer
	a.json(e.t, &s)
	return s.Token
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
