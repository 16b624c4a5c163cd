package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"
)

// Passwords of the test accounts, generated per run.
var (
	nursePW = rand.Text()
	techPW  = rand.Text()
)

func loggedIn(t *testing.T, f *fixture, name, pw string) (Token, *Principal) {
	t.Helper()
	tok, p, err := f.a.Login(context.Background(), name, pw, "192.0.2.20:5000", "bearer")
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return tok, p
}

func mustAuth(t *testing.T, f *fixture, tok Token) *Principal {
	t.Helper()
	p, err := f.a.Authenticate(context.Background(), tok, "192.0.2.20:5000")
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return p
}

func refused(t *testing.T, f *fixture, tok Token, why string) {
	t.Helper()
	_, err := f.a.Authenticate(context.Background(), tok, "192.0.2.20:5000")
	if KindOf(err) != KindUnauthenticated {
		t.Fatalf("token accepted %s: %v", why, err)
	}
}

// Attack: a token is refused after logout, idle timeout, absolute timeout,
// password change, role change, disabling and deletion.
func TestSessionEnds(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*fixture, *Principal) {
		f := newFixture(t)
		_, admin := f.provision(t)
		f.addUser(t, admin, "nurse", RoleClinician, nursePW)
		return f, admin
	}
	t.Run("logout", func(t *testing.T) {
		f, _ := setup(t)
		tok, _ := loggedIn(t, f, "nurse", nursePW)
		mustAuth(t, f, tok)
		if err := f.a.Logout(ctx, tok, "x"); err != nil {
			t.Fatal(err)
		}
		refused(t, f, tok, "after logout")
	})
	t.Run("idle", func(t *testing.T) {
		f, _ := setup(t)
		tok, _ := loggedIn(t, f, "nurse", nursePW)
		f.clk.Advance(14 * time.Minute)
		mustAuth(t, f, tok) // activity resets the idle timer
		f.clk.Advance(14 * time.Minute)
		mustAuth(t, f, tok)
		f.clk.Advance(15*time.Minute + time.Second)
		refused(t, f, tok, "after idle timeout")
		if !slices.Contains(f.ev.Codes(), "auth.session.timeout") {
			t.Fatal("no timeout event")
		}
	})
	t.Run("absolute", func(t *testing.T) {
		f, _ := setup(t)
		tok, _ := loggedIn(t, f, "nurse", nursePW)
		for range 12 * 6 {
			f.clk.Advance(10 * time.Minute)
			mustAuth(t, f, tok)
		}
		f.clk.Advance(10 * time.Minute)
		refused(t, f, tok, "after absolute timeout")
	})
	t.Run("password change", func(t *testing.T) {
		f, _ := setup(t)
		tok, p := loggedIn(t, f, "nurse", nursePW)
		other, _ := loggedIn(t, f, "nurse", nursePW)
		ntok, _, err := f.a.ChangePassword(ctx, p, nursePW, "a brand new and long passphrase")
		if err != nil {
			t.Fatal(err)
		}
		refused(t, f, tok, "after password change")
		refused(t, f, other, "of another session after password change")
		mustAuth(t, f, ntok)
		if _, _, err := f.a.Login(ctx, "nurse", nursePW, "192.0.2.20:5000", "bearer"); KindOf(err) != KindUnauthenticated {
			t.Fatalf("old password still works: %v", err)
		}
	})
	t.Run("role change", func(t *testing.T) {
		f, admin := setup(t)
		tok, _ := loggedIn(t, f, "nurse", nursePW)
		if err := f.a.SetRole(ctx, admin, "nurse", RoleTechnician); err != nil {
			t.Fatal(err)
		}
		refused(t, f, tok, "after role change")
	})
	t.Run("disable and delete", func(t *testing.T) {
		f, admin := setup(t)
		tok, _ := loggedIn(t, f, "nurse", nursePW)
		if err := f.a.SetDisabled(ctx, admin, "nurse", true); err != nil {
			t.Fatal(err)
		}
		refused(t, f, tok, "after disable")
		if _, _, err := f.a.Login(ctx, "nurse", nursePW, "192.0.2.20:5000", "bearer"); KindOf(err) != KindSuspended {
			t.Fatalf("disabled account logs in: %v", err)
		}
		if err := f.a.SetDisabled(ctx, admin, "nurse", false); err != nil {
			t.Fatal(err)
		}
		tok, _ = loggedIn(t, f, "nurse", nursePW)
		if err := f.a.DeleteUser(ctx, admin, "nurse"); err != nil {
			t.Fatal(err)
		}
		refused(t, f, tok, "after delete")
	})
	t.Run("ended by admin", func(t *testing.T) {
		f, admin := setup(t)
		tok, p := loggedIn(t, f, "nurse", nursePW)
		ss, _ := f.a.Sessions()
		if len(ss) != 2 {
			t.Fatalf("sessions: %v", ss)
		}
		if err := f.a.EndSession(ctx, admin, p.SessionID); err != nil {
			t.Fatal(err)
		}
		refused(t, f, tok, "after an admin ended it")
		if err := f.a.EndSession(ctx, admin, p.SessionID); KindOf(err) != KindNotFound {
			t.Fatalf("ending it twice: %v", err)
		}
	})
}

// Attack: a token from before login is never promoted (no fixation); every
// login gives a fresh token, and the store keeps only hashes.
func TestNoFixationAndHashedTokens(t *testing.T) {
	f := newFixture(t)
	tok1, admin := f.provision(t)
	_ = admin
	tok2, _ := loggedIn(t, f, "alice", adminPW)
	if tok1.Equal(tok2) {
		t.Fatal("two logins gave the same token")
	}
	planted := ParseToken(newToken().Reveal())
	refused(t, f, planted, "planted before login")
	raw := map[string]bool{}
	f.store.View(func(tx stateTx) error {
		return tx.ForEach("sessions", func(k string, v []byte) error {
			raw[k] = true
			if bytesContain(v, tok1.Reveal()) || bytesContain(v, tok2.Reveal()) {
				t.Error("a session record holds the token")
			}
			return nil
		})
	})
	if raw[tok1.Reveal()] || !raw[tok1.storageKey()] {
		t.Fatal("sessions are not keyed by the token's hash")
	}
	if s := tok1.String() + " " + tok1.GoString(); s != "[REDACTED] auth.Token([REDACTED])" {
		t.Fatalf("token prints %q", s)
	}
}

// Attack: throttling answers unknown and known users alike, and delays
// repeated guesses.
func TestThrottlingAndNoEnumeration(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, admin := f.provision(t)
	f.addUser(t, admin, "nurse", RoleClinician, nursePW)
	try := func(name, src string) error {
		_, _, err := f.a.Login(ctx, name, "not the password at all", src, "bearer")
		return err
	}
	var known, unknown []string
	for range 4 {
		known = append(known, try("nurse", "198.51.100.1:1").Error())
		unknown = append(unknown, try("nobody", "198.51.100.2:1").Error())
	}
	if !slices.Equal(known, unknown) {
		t.Fatalf("known and unknown users answered differently:\n%q\n%q", known, unknown)
	}
	if KindOf(try("nurse", "198.51.100.1:2")) != KindThrottled || KindOf(try("nobody", "198.51.100.2:2")) != KindThrottled {
		t.Fatal("no throttling after repeated failures")
	}
	// The right password from the throttled source waits too.
	_, _, err := f.a.Login(ctx, "nurse", nursePW, "198.51.100.1:3", "bearer")
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindThrottled || e.RetryAfter <= 0 {
		t.Fatalf("throttled source logged in: %v", err)
	}
	// The clinician at another source is not locked out.
	loggedIn(t, f, "nurse", nursePW)
	f.clk.Advance(e.RetryAfter)
	if _, _, err := f.a.Login(ctx, "nurse", nursePW, "198.51.100.1:4", "bearer"); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
	if !slices.Contains(f.ev.Codes(), "auth.login.throttled") {
		t.Fatal("no throttling event")
	}
}

// NIST SP 800-63B-4: at most 100 consecutive failures before an admin must
// act, but a clinician is never locked out, and neither is the last admin.
func TestConsecutiveFailureLimit(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, admin := f.provision(t)
	f.addUser(t, admin, "nurse", RoleClinician, nursePW)
	f.addUser(t, admin, "tech", RoleTechnician, techPW)
	for i := range 100 {
		src := "203.0.113." + string(rune('0'+i%10)) + ":1" // spread over sources
		for _, n := range []string{"nurse", "tech", "alice"} {
			f.a.Login(ctx, n, "guess guess guess guess", src, "bearer")
		}
		f.clk.Advance(16 * time.Minute) // past every throttling delay
	}
	f.clk.Advance(time.Hour)
	if _, _, err := f.a.Login(ctx, "tech", techPW, "192.0.2.30:1", "bearer"); KindOf(err) != KindSuspended {
		t.Fatalf("technician after 100 failures: %v", err)
	}
	loggedIn(t, f, "nurse", nursePW)            // clinician: throttled, never suspended
	_, admin = loggedIn(t, f, "alice", adminPW) // the last admin is not suspended
	if !slices.Contains(f.ev.Codes(), "auth.account.suspended") {
		t.Fatal("no suspension event")
	}
	if err := f.a.SetDisabled(ctx, admin, "tech", false); err != nil {
		t.Fatal(err)
	}
	loggedIn(t, f, "tech", techPW)
}

func TestLastAdminCannotBeRemoved(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, admin := f.provision(t)
	for name, err := range map[string]error{
		"delete":  f.a.DeleteUser(ctx, admin, "alice"),
		"disable": f.a.SetDisabled(ctx, admin, "alice", true),
		"demote":  f.a.SetRole(ctx, admin, "alice", RoleTechnician),
	} {
		if KindOf(err) != KindConflict {
			t.Errorf("%s the last admin: %v", name, err)
		}
	}
	f.addUser(t, admin, "bob", RoleAdmin, "another long admin passphrase")
	if err := f.a.SetRole(ctx, admin, "alice", RoleTechnician); err != nil {
		t.Fatalf("demote with a second admin: %v", err)
	}
}

func TestAuthorizeDenyByDefaultAndReauth(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tok, admin := f.provision(t)
	f.addUser(t, admin, "nurse", RoleClinician, nursePW)
	_, nurse := loggedIn(t, f, "nurse", nursePW)
	for _, p := range Permissions {
		err := f.a.Authorize(ctx, nurse, p)
		if RoleClinician.Allows(p) != (err == nil) {
			t.Errorf("clinician and %s: %v", p, err)
		}
		if p != PermPublic && f.a.Authorize(ctx, nil, p) == nil {
			t.Errorf("anonymous allowed %s", p)
		}
	}
	f.clk.Advance(6 * time.Minute)
	admin = mustAuth(t, f, tok)
	wantKind(t, f.a.Authorize(ctx, admin, PermUsersManage), KindReauthRequired)
	if err := f.a.Authorize(ctx, admin, PermUsersRead); err != nil {
		t.Fatalf("non-critical read needs reauth: %v", err)
	}
	wantKind(t, f.a.CreateUser(ctx, admin, "carl", RoleClinician, nursePW), KindReauthRequired)
	if err := f.a.Reauthenticate(ctx, admin, tok, adminPW); err != nil {
		t.Fatal(err)
	}
	f.addUser(t, admin, "carl", RoleClinician, nursePW)
	wantKind(t, f.a.CreateUser(ctx, admin, "CARL", RoleClinician, nursePW), KindConflict)
}

func TestRehashOnLoginWhenCostChanges(t *testing.T) {
	f := newFixture(t)
	f.provision(t)
	f.a.cfg.Argon2 = Params{Time: 2, MemoryKiB: 128, Threads: 1}
	loggedIn(t, f, "alice", adminPW)
	var u *user
	f.store.View(func(tx stateTx) (err error) { u, err = getUser(tx, "alice"); return err })
	h, err := ParsePHC(u.Hash)
	if err != nil || h.Params != f.a.cfg.Argon2 {
		t.Fatalf("hash %q not renewed: %v", u.Hash, err)
	}
	loggedIn(t, f, "alice", adminPW)
}
