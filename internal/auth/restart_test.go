package auth

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog/eventlogtest"
	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/state"
)

// With the real (bbolt) state store: accounts, sessions, failure counts
// and the provisioned state survive a restart of the daemon; no new setup
// code is issued; a stale setup-code file is removed; and nothing secret is
// in the database file in plaintext.
func TestRestartWithBolt(t *testing.T) {
	dir := t.TempDir()
	key := make([]byte, 32)
	rand.Read(key)
	clk := &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	var codes []string
	open := func() (*Auth, *state.Bolt) {
		st, err := state.OpenBolt(filepath.Join(dir, "state.db"), keystore.NewSecret(append([]byte(nil), key...)))
		if err != nil {
			t.Fatal(err)
		}
		f := &fixture{}
		cfg := testConfig(t, f)
		cfg.Store, cfg.Events, cfg.Now, cfg.StateDir = st, &eventlogtest.Memory{}, clk.Now, dir
		cfg.OnSetupCode = func(c string, _ time.Time) { codes = append(codes, c) }
		a, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return a, st
	}
	ctx := context.Background()
	a, st := open()
	tok, _, err := a.Setup(ctx, codes[0], "alice", adminPW, "192.0.2.1:1")
	if err != nil {
		t.Fatal(err)
	}
	a.Login(ctx, "alice", "a wrong password guess", "192.0.2.2:1", "bearer")
	a.Close()
	st.Close()

	os.WriteFile(filepath.Join(dir, "setup-code"), []byte("STALE\n"), 0o600)
	a, st = open()
	defer st.Close()
	defer a.Close()
	if !a.Provisioned() || len(codes) != 1 {
		t.Fatalf("after restart: provisioned %v, %d codes issued", a.Provisioned(), len(codes))
	}
	if _, err := os.Stat(filepath.Join(dir, "setup-code")); !os.IsNotExist(err) {
		t.Fatal("stale setup-code file kept")
	}
	clk.Advance(time.Minute)
	if _, err := a.Authenticate(ctx, tok, "192.0.2.1:1"); err != nil {
		t.Fatalf("session lost in restart: %v", err)
	}
	if u, _ := a.User("alice"); u.FailedLogins != 1 {
		t.Fatalf("failure count after restart: %d", u.FailedLogins)
	}
	st.Close()
	raw, err := os.ReadFile(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"$argon2id$", tok.Reveal(), `"role":"admin"`} {
		if bytesContain(raw, secret) {
			t.Errorf("state database holds %q in plaintext", secret)
		}
	}
}
