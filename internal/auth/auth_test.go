package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog/eventlogtest"
	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/state"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	a      *Auth
	ev     *eventlogtest.Memory
	clk    *clock
	store  state.Store
	dir    string
	codes  []string
	codeMu sync.Mutex
}

// testParams are cheap argon2id parameters for unit tests; benchmarks use
// the configured ones.
var testParams = Params{Time: 1, MemoryKiB: 64, Threads: 1}

func testConfig(t testing.TB, f *fixture) Config {
	key := make([]byte, 32)
	rand.Read(key)
	st, err := state.NewMemory(keystore.NewSecret(key))
	if err != nil {
		t.Fatal(err)
	}
	f.store, f.ev, f.clk, f.dir = st, &eventlogtest.Memory{}, &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}, t.TempDir()
	return Config{
		Store: st, Events: f.ev, Now: f.clk.Now, StateDir: f.dir, DeviceName: "icu-monitor-7",
		OnSetupCode: func(code string, _ time.Time) {
			f.codeMu.Lock()
			f.codes = append(f.codes, code)
			f.codeMu.Unlock()
		},
		MinPasswordLength: 15, Argon2: testParams, MaxConcurrentHashes: 2,
		IdleTimeout: 15 * time.Minute, AbsoluteTimeout: 12 * time.Hour, ReauthWindow: 5 * time.Minute,
		SetupCodeLifetime: 30 * time.Minute, AccountMaxDelay: 30 * time.Second, SourceMaxDelay: 15 * time.Minute,
		MaxConsecutiveFailures: 100,
	}
}

func newFixture(t testing.TB, mod ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{}
	cfg := testConfig(t, f)
	for _, m := range mod {
		m(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	t.Cleanup(func() { a.Close() })
	return f
}

func (f *fixture) code() string {
	f.codeMu.Lock()
	defer f.codeMu.Unlock()
	return f.codes[len(f.codes)-1]
}

// Test accounts get passwords generated per run (no password is committed).
var adminPW = rand.Text()

// provision sets up the admin "alice" and returns her principal.
func (f *fixture) provision(t testing.TB) (Token, *Principal) {
	t.Helper()
	tok, p, err := f.a.Setup(context.Background(), f.code(), "alice", adminPW, "192.0.2.1:4000")
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	return tok, p
}

func (f *fixture) addUser(t testing.TB, admin *Principal, name string, role Role, pw string) {
	t.Helper()
	if err := f.a.CreateUser(context.Background(), admin, name, role, pw); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func wantKind(t testing.TB, err error, k Kind) {
	t.Helper()
	if KindOf(err) != k {
		t.Fatalf("error %v: kind %q, want %q", err, KindOf(err), k)
	}
}

// Attack: on a fresh device, common default credentials get nothing.
func TestFreshDeviceHasNoDefaultCredentials(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, c := range [][2]string{{"admin", "admin"}, {"root", "root"}, {"admin", "password"}, {"service", "service"},
		{"admin", "1234"}, {"admin", ""}, {"user", "user"}, {"technician", "technician"}, {"medguard", "medguard"}} {
		if _, _, err := f.a.Login(ctx, c[0], c[1], "192.0.2.9:1", "bearer"); KindOf(err) != KindNotProvisioned {
			t.Errorf("login %s/%s on a fresh device: %v", c[0], c[1], err)
		}
	}
	if f.a.Provisioned() {
		t.Fatal("fresh device claims to be provisioned")
	}
	us, _ := f.a.Users()
	if len(us) != 0 {
		t.Fatalf("fresh device has accounts: %v", us)
	}
	// After provisioning, the defaults still fail: the only account is the
	// one the admin made.
	f.provision(t)
	for _, c := range [][2]string{{"admin", "admin"}, {"root", "root"}, {"alice", "alice"}, {"service", "service"}} {
		if _, _, err := f.a.Login(ctx, c[0], c[1], "192.0.2.10:1", "bearer"); KindOf(err) != KindUnauthenticated {
			t.Errorf("login %s/%s: %v", c[0], c[1], err)
		}
	}
}

func TestSetupCodeFormat(t *testing.T) {
	c := newSetupCode()
	if len(c) != 23 || strings.Count(c, "-") != 3 {
		t.Fatalf("setup code %q: want 4 groups of 5", c)
	}
	h := setupCodeHash(c)
	typed := strings.ToLower(strings.ReplaceAll(c, "-", " "))
	typed = strings.NewReplacer("0", "o", "1", "l").Replace(typed)
	if !setupCodeMatches(typed, h) {
		t.Fatalf("typed form %q of %q does not match", typed, c)
	}
	if setupCodeMatches(c[:22], h) || setupCodeMatches(c+"0", h) || setupCodeMatches("", h) {
		t.Fatal("a shortened or lengthened code matches")
	}
	if newSetupCode() == c {
		t.Fatal("two setup codes are equal")
	}
}

// Attack: a setup code works once, and only within its time.
func TestSetupCodeOnceAndInTime(t *testing.T) {
	ctx := context.Background()
	t.Run("once", func(t *testing.T) {
		provisioned := ""
		f := newFixture(t, func(c *Config) { c.OnProvisioned = func(admin string) { provisioned += admin } })
		code := f.code()
		b, err := os.ReadFile(filepath.Join(f.dir, "setup-code"))
		if err != nil || !strings.HasPrefix(string(b), code+"\n") {
			t.Fatalf("setup-code file: %q, %v", b, err)
		}
		if fi, _ := os.Stat(filepath.Join(f.dir, "setup-code")); fi.Mode().Perm() != 0o600 {
			t.Fatalf("setup-code file mode %v", fi.Mode())
		}
		f.provision(t)
		_, _, err = f.a.Setup(ctx, code, "mallory", adminPW+" x", "192.0.2.66:1")
		wantKind(t, err, KindProvisioned)
		if provisioned != "alice" {
			t.Fatalf("OnProvisioned called with %q", provisioned)
		}
		if _, err := os.Stat(filepath.Join(f.dir, "setup-code")); !os.IsNotExist(err) {
			t.Fatal("setup-code file left behind after provisioning")
		}
		if _, _, ok := f.a.SetupCode(); ok {
			t.Fatal("a setup code is still offered")
		}
	})
	t.Run("expired", func(t *testing.T) {
		f := newFixture(t)
		code := f.code()
		f.clk.Advance(30*time.Minute + time.Second)
		_, _, err := f.a.Setup(ctx, code, "alice", adminPW, "192.0.2.1:1")
		wantKind(t, err, KindSetupCode)
		if f.code() == code {
			t.Fatal("no new code issued after expiry")
		}
		f.provision(t) // the new code works
	})
	t.Run("a guessing source is throttled, others are not", func(t *testing.T) {
		f := newFixture(t)
		code := f.code()
		for range ruleSetupSrc.after {
			_, _, err := f.a.Setup(ctx, newSetupCode(), "alice", adminPW, "192.0.2.66:1")
			wantKind(t, err, KindSetupCode)
		}
		_, _, err := f.a.Setup(ctx, code, "alice", adminPW, "192.0.2.66:2")
		wantKind(t, err, KindThrottled) // even the right code waits, from there
		f.provision(t)                  // from another source it works
	})
	t.Run("many wrong codes are throttled, then the code is burnt", func(t *testing.T) {
		f := newFixture(t)
		code := f.code()
		fails, throttled := 0, 0
		for i := 0; fails < setupBurnAfter; i++ {
			src := fmt.Sprintf("198.51.100.%d:1", i%250) // a distributed guesser
			_, _, err := f.a.Setup(ctx, newSetupCode(), "alice", adminPW, src)
			var e *Error
			if KindOf(err) == KindThrottled && errors.As(err, &e) {
				f.clk.Advance(e.RetryAfter)
				throttled++
				continue
			}
			wantKind(t, err, KindSetupCode)
			fails++
		}
		if throttled < setupBurnAfter-ruleSetup.after {
			t.Fatalf("throttled %d times, want one per failure after the %dth", throttled, ruleSetup.after)
		}
		_, _, err := f.a.Setup(ctx, code, "alice", adminPW, "192.0.2.1:1")
		wantKind(t, err, KindSetupCode) // burnt
		if f.code() == code {
			t.Fatal("no new code after the old one was burnt")
		}
		f.provision(t)
		if !slices.Contains(f.ev.Codes(), "auth.setup.code_burnt") {
			t.Fatal("no event for the burnt code")
		}
	})
	t.Run("weak password does not use up the code", func(t *testing.T) {
		f := newFixture(t)
		_, _, err := f.a.Setup(ctx, f.code(), "alice", "password", "192.0.2.1:1")
		wantKind(t, err, KindWeakPassword)
		f.provision(t)
	})
}

func TestSetupRenewedByRun(t *testing.T) {
	f := newFixture(t)
	first := f.code()
	f.clk.Advance(31 * time.Minute)
	f.a.tick(context.Background())
	if f.code() == first {
		t.Fatal("Run did not renew an expired setup code")
	}
}
