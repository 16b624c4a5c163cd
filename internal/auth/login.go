package auth

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/state"
)

// Principal is who a request acts for: a user with a session, or a machine
// client identified by its certificate.
type Principal struct {
	Name      string
	Role      Role
	Source    string
	SessionID string    // "" for certificate clients
	Kind      string    // "cookie", "bearer" or "certificate"
	AuthAt    time.Time // last password authentication; zero for certificates
}

// Setup provisions a fresh device: with the current setup code it creates
// the first admin account and logs it in. It fails with KindProvisioned once
// an admin exists, with KindSetupCode for a wrong, used or expired code, and
// with KindThrottled after repeated failures.
func (a *Auth) Setup(ctx context.Context, code, name, password, source string) (Token, *Principal, error) {
	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	if a.provisd.Load() {
		return Token{}, nil, refuse(KindProvisioned, "the device is already provisioned")
	}
	now := a.now()
	srcKey := "setup|" + sourceKey(source)
	if w := max(a.setup.until.Sub(now), a.thr.wait(srcKey)); w > 0 {
		e := refuse(KindThrottled, "too many wrong setup codes: try again in %s", w.Round(time.Second))
		e.RetryAfter = w
		return Token{}, nil, e
	}
	if !now.Before(a.setup.expires) {
		a.event(ctx, "auth.setup.failed", eventlog.SeverityWarning, name, source, "A setup attempt used an expired setup code.", nil)
		if err := a.issueSetupCodeLocked(ctx); err != nil {
			return Token{}, nil, err
		}
		return Token{}, nil, refuse(KindSetupCode, "the setup code has expired: a new one is shown on the device's console")
	}
	if !setupCodeMatches(code, a.setup.hash) {
		srcRule := ruleSetupSrc
		srcRule.max = a.cfg.SourceMaxDelay
		a.thr.fail(srcKey, srcRule)
		return Token{}, nil, a.setupFailedLocked(ctx, name, source)
	}
	cname, err := CanonicalUser(name)
	if err != nil {
		return Token{}, nil, err
	}
	if err := a.policy.Check(cname, password); err != nil {
		return Token{}, nil, err
	}
	u := &user{Name: cname, Role: RoleAdmin, Hash: hashPassword(password, a.cfg.Argon2), Created: now, PwChanged: now, Gen: 1}
	err = a.cfg.Store.Update(func(tx state.Tx) error {
		if n, err := activeAdmins(tx); err != nil || n > 0 {
			return fmt.Errorf("an admin exists already (%d): %w", n, err)
		}
		return putUser(tx, u)
	})
	if err != nil {
		return Token{}, nil, fmt.Errorf("setup: create admin %q: %w", cname, err)
	}
	a.provisd.Store(true)
	a.setup = setupState{}
	if err := os.Remove(a.setupCodeFile()); err != nil && !os.IsNotExist(err) {
		a.log.Error("remove setup code file", "err", err)
	}
	a.event(ctx, "auth.setup.completed", eventlog.SeverityNotice, cname, source,
		"The device was provisioned: the first admin account was created with the setup code.", nil)
	a.event(ctx, "auth.user.created", eventlog.SeverityNotice, cname, source,
		"User account "+cname+" was created with role admin.", map[string]string{"user": cname, "role": string(RoleAdmin)})
	if a.cfg.OnProvisioned != nil {
		a.cfg.OnProvisioned(cname)
	}
	return a.startSession(ctx, u, "bearer", source)
}

func (a *Auth) setupFailedLocked(ctx context.Context, name, source string) error {
	a.setup.failures++
	n := a.setup.failures
	a.event(ctx, "auth.setup.failed", eventlog.SeverityWarning, name, source,
		"A setup attempt used a wrong setup code.", map[string]string{"failures": strconv.Itoa(n)})
	if d := delay(n, ruleSetup); d > 0 {
		a.setup.until = a.now().Add(d)
	}
	if n >= setupBurnAfter {
		a.alert(ctx, eventlog.Event{Code: "auth.setup.code_burnt", Severity: eventlog.SeverityAlert, Actor: name, Source: source,
			Message: "The setup code was withdrawn after " + strconv.Itoa(n) + " wrong attempts.",
			Cause:   "Someone is guessing the setup code over the network.",
			Action:  "Read the new setup code on the device's own console and check the network for the guessing source."})
		if err := a.issueSetupCodeLocked(ctx); err != nil {
			return err
		}
	}
	return refuse(KindSetupCode, "wrong setup code")
}

// Login checks a user name and password from source and, if they are right,
// starts a session of the given kind ("cookie" or "bearer"). Every refusal
// of a wrong name or password is the same error, after the same work.
func (a *Auth) Login(ctx context.Context, name, password, source, kind string) (Token, *Principal, error) {
	if !a.provisd.Load() {
		return Token{}, nil, refuse(KindNotProvisioned, "the device is not provisioned")
	}
	cname, nerr := CanonicalUser(name)
	if nerr != nil {
		cname = "?" // malformed: treated as an unknown user
	}
	u, err := a.checkPassword(ctx, cname, password, source)
	if err != nil {
		return Token{}, nil, err
	}
	return a.startSession(ctx, u, kind, source)
}

// throttleKeys returns the keys for name from source, and their rules.
func (a *Auth) throttleKeys(name, source string) ([3]string, [3]rule) {
	src := sourceKey(source)
	keys := [3]string{"p:" + name + "|" + src, "s:" + src, "a:" + name}
	pair, sr, ac := rulePair, ruleSrc, ruleAcct
	pair.max, sr.max, ac.max = a.cfg.SourceMaxDelay, a.cfg.SourceMaxDelay, a.cfg.AccountMaxDelay
	return keys, [3]rule{pair, sr, ac}
}

// checkPassword is the guarded password check shared by Login and
// Reauthenticate: throttle, hashing slot, verification, bookkeeping.
func (a *Auth) checkPassword(ctx context.Context, name, password, source string) (*user, error) {
	keys, rules := a.throttleKeys(name, source)
	var wait time.Duration
	for _, k := range keys {
		wait = max(wait, a.thr.wait(k))
	}
	if wait > 0 {
		e := refuse(KindThrottled, "too many failed logins: try again in %s", wait.Round(time.Second))
		e.RetryAfter = wait
		return nil, e
	}
	if !a.slots.acquire(ctx) {
		a.log.Warn("login refused: every hashing slot is busy", "source", source)
		return nil, &Error{Kind: KindBusy, Msg: "the device is busy: try again in a moment", RetryAfter: time.Second}
	}
	var u *user
	err := a.cfg.Store.View(func(tx state.Tx) (err error) { u, err = getUser(tx, name); return err })
	if err != nil && !isNotFound(err) {
		a.slots.release()
		return nil, fmt.Errorf("login %q: %w", name, err)
	}
	phc, known := a.dummy, false
	if u != nil {
		if p, perr := ParsePHC(u.Hash); perr == nil {
			phc, known = p, true
		} else {
			a.log.Error("stored password hash unreadable", "user", name, "err", perr)
		}
	}
	ok := phc.Verify(password) && known
	rehash := ""
	if ok && phc.Params != a.cfg.Argon2 {
		rehash = hashPassword(password, a.cfg.Argon2) // cost changed: re-hash (issue 4, item 5)
	}
	a.slots.release()
	if !ok {
		return nil, a.loginFailed(ctx, name, u, source, keys, rules)
	}
	if !u.active() {
		what := "disabled"
		if u.Suspended {
			what = "suspended after too many failed logins"
		}
		a.event(ctx, "auth.login.refused", eventlog.SeverityWarning, name, source, "A login to a "+what+" account was refused.", nil)
		return nil, refuse(KindSuspended, "this account is %s: an admin must enable it", what)
	}
	a.thr.reset(keys[0])
	a.thr.reset(keys[2])
	return u, a.loginSucceeded(ctx, u, rehash, source)
}

// loginFailed does the bookkeeping of a wrong name or password: throttling,
// the persistent count of consecutive failures, suspension, events. It does
// the same store write for unknown users, so that timing does not tell.
func (a *Auth) loginFailed(ctx context.Context, name string, u *user, source string, keys [3]string, rules [3]rule) error {
	throttled := false
	for i, k := range keys {
		if _, started := a.thr.fail(k, rules[i]); started {
			throttled = true
		}
	}
	suspended, failures := false, 0
	err := a.cfg.Store.Update(func(tx state.Tx) error {
		if u == nil {
			return countUnknownFailure(tx)
		}
		cur, err := getUser(tx, u.Name)
		if err != nil {
			return err
		}
		cur.Failures++
		failures = cur.Failures
		if cur.Failures >= a.cfg.MaxConsecutiveFailures && !cur.Suspended && cur.Role != RoleClinician {
			// NIST SP 800-63B-4 3.2.2: at most 100 consecutive failures.
			// Clinical accounts are never suspended (issue 4, item 6); the
			// last active admin neither, or nobody could manage the device.
			if n, err := activeAdmins(tx); err != nil {
				return err
			} else if cur.Role != RoleAdmin || n > 1 {
				cur.Suspended, suspended = true, true
				cur.Gen++
				if _, err := deleteUserSessions(tx, cur.Name); err != nil {
					return err
				}
			}
		}
		return putUser(tx, cur)
	})
	if err != nil {
		a.log.Error("record failed login", "user", name, "err", err)
	}
	a.event(ctx, "auth.login.failed", eventlog.SeverityWarning, name, source, "A login failed: wrong user name or password.",
		map[string]string{"consecutive_failures": strconv.Itoa(failures)})
	if throttled {
		a.alert(ctx, eventlog.Event{Code: "auth.login.throttled", Severity: eventlog.SeverityWarning, Actor: name, Source: source,
			Message: "Repeated failed logins: further attempts from this source or to this account are delayed.",
			Cause:   "Several wrong passwords in a row, from one source or for one account.",
			Action:  "Check whether the user forgot the password or someone is guessing; block the source if it is not known."})
	}
	if suspended {
		a.alert(ctx, eventlog.Event{Code: "auth.account.suspended", Severity: eventlog.SeverityAlert, Actor: name, Source: source,
			Message: "Account " + name + " was suspended after " + strconv.Itoa(failures) + " consecutive failed logins.",
			Cause:   "Too many consecutive wrong passwords for this account (NIST SP 800-63B-4 limit).",
			Action:  "Confirm with the account's owner, then enable the account (medguard users enable) and consider a password reset."})
	}
	return errBadCredentials()
}

// countUnknownFailure keeps a count of failed logins to unknown names; it
// mainly gives the unknown-user path the same store write as a known one.
func countUnknownFailure(tx state.Tx) error {
	const key = "auth.unknown-user-failures"
	n := 0
	if b, err := tx.Get(state.BucketSettings, key); err == nil {
		n, _ = strconv.Atoi(string(b))
	}
	return tx.Put(state.BucketSettings, key, []byte(strconv.Itoa(n+1)))
}

// loginSucceeded resets the failure count, stores a re-hash if the cost
// changed, and notes the time.
func (a *Auth) loginSucceeded(ctx context.Context, u *user, rehash, source string) error {
	now := a.now()
	err := a.cfg.Store.Update(func(tx state.Tx) error {
		cur, err := getUser(tx, u.Name)
		if err != nil {
			return err
		}
		cur.Failures, cur.LastLogin = 0, now
		if rehash != "" && cur.Hash == u.Hash {
			cur.Hash = rehash
		}
		*u = *cur
		return putUser(tx, cur)
	})
	if err != nil {
		return fmt.Errorf("login %q: %w", u.Name, err)
	}
	if rehash != "" {
		a.event(ctx, "auth.password.rehashed", eventlog.SeverityInfo, u.Name, source, "The password hash was renewed with the configured cost.", nil)
	}
	return nil
}
