package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/state"
)

// TestEveryRunTimeUserChangeIsAnnounced drives the real accounts package
// through every change an admin can make at run time (issue 6, item 4:
// users) and checks that each one raises a configuration-change
// notification with who, when, from where, what and old → new, and that no
// password reaches the inbox. The notifier reads the events through Run,
// as on the device.
func TestEveryRunTimeUserChangeIsAnnounced(t *testing.T) {
	log := newMemLog()
	n := newTestNotifier(t, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx)

	key := make([]byte, 32)
	rand.Read(key)
	st, err := state.NewMemory(keystore.NewSecret(key))
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Config{Store: st, Events: log, StateDir: t.TempDir(), DeviceName: "icu-monitor-7",
		MinPasswordLength: 15, Argon2: auth.Params{Time: 1, MemoryKiB: 64, Threads: 1}, MaxConcurrentHashes: 2,
		IdleTimeout: 15 * time.Minute, AbsoluteTimeout: 12 * time.Hour, ReauthWindow: 5 * time.Minute,
		SetupCodeLifetime: 30 * time.Minute, AccountMaxDelay: 30 * time.Second, SourceMaxDelay: 15 * time.Minute,
		MaxConsecutiveFailures: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var passwords []string
	password := func() string {
		b := make([]byte, 12)
		rand.Read(b)
		passwords = append(passwords, hex.EncodeToString(b))
		return passwords[len(passwords)-1]
	}
	code, _, _ := a.SetupCode()
	const from = "10.1.2.3:50000"
	first := password()
	_, alice, err := a.Setup(ctx, code, "alice", first, from)
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name     string
		do       func() error
		code     string // event code
		what     string // the change that must be listed
		old, new string
	}{
		{"create", func() error { return a.CreateUser(ctx, alice, "bob", auth.RoleClinician, password()) },
			"auth.user.created", "account", "–", "created"},
		{"role", func() error { return a.SetRole(ctx, alice, "bob", auth.RoleTechnician) },
			"auth.user.role_changed", "role", "clinician", "technician"},
		{"disable", func() error { return a.SetDisabled(ctx, alice, "bob", true) },
			"auth.user.disabled", "account", "enabled", "disabled"},
		{"enable", func() error { return a.SetDisabled(ctx, alice, "bob", false) },
			"auth.user.enabled", "account", "disabled", "enabled"},
		{"reset password", func() error { return a.ResetPassword(ctx, alice, "bob", password()) },
			"auth.password.reset", "password", Masked, Masked},
		{"change own password", func() error {
			_, p, err := a.ChangePassword(ctx, alice, first, password())
			if p != nil {
				alice = p
			}
			return err
		}, "auth.password.changed", "password", Masked, Masked},
		{"delete", func() error { return a.DeleteUser(ctx, alice, "bob") },
			"auth.user.deleted", "account", "exists", "deleted"},
	}
	for _, s := range steps {
		before := log.Last()
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var got *Notification
		until(t, func() bool {
			for _, no := range n.List(Filter{Code: "config.change.users", AfterID: before}) {
				if no.Event.Code == s.code {
					got = &no
					return true
				}
			}
			return false
		})
		if got.Event.Actor != "alice" || got.Event.Source != from || got.Time.IsZero() || got.Event.Message == "" {
			t.Errorf("%s: who, where, when or what missing: %+v", s.name, got.Event)
		}
		found := false
		for _, c := range got.Changes {
			found = found || (c.What == s.what && c.Old == s.old && c.New == s.new)
		}
		if !found {
			t.Errorf("%s: changes %+v lack %s: %s → %s", s.name, got.Changes, s.what, s.old, s.new)
		}
	}
	b, _ := json.Marshal(n.List(Filter{Limit: 1000}))
	for _, p := range passwords {
		if strings.Contains(string(b), p) {
			t.Fatalf("a password reached the inbox: %s", b)
		}
	}
}
