package auth

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/state"
)

// maxSessionsPerUser bounds the sessions one account can hold; the oldest
// is ended when a new one would exceed it, so that logins cannot fill the
// state store.
const maxSessionsPerUser = 16

// startSession creates a session for u: always a new token, so that a token
// known before login is never promoted (no session fixation, ASVS 5.0
// V7.2.4).
func (a *Auth) startSession(ctx context.Context, u *user, kind, source string) (Token, *Principal, error) {
	if kind != "cookie" && kind != "bearer" {
		return Token{}, nil, fmt.Errorf("start session: unknown kind %q", kind)
	}
	now := a.now()
	tok := newToken()
	key := tok.storageKey()
	s := &session{User: u.Name, Gen: u.Gen, Kind: kind, Source: source, Created: now, LastSeen: now, AuthAt: now}
	err := a.cfg.Store.Update(func(tx state.Tx) error {
		if err := a.trimSessions(tx, u.Name); err != nil {
			return err
		}
		return putSession(tx, key, s)
	})
	if err != nil {
		return Token{}, nil, fmt.Errorf("start session for %q: %w", u.Name, err)
	}
	a.event(ctx, "auth.login.succeeded", eventlog.SeverityInfo, u.Name, source, "User "+u.Name+" logged in.",
		map[string]string{"session": sessionID(key), "kind": kind, "role": string(u.Role)})
	return tok, &Principal{Name: u.Name, Role: u.Role, Source: source, SessionID: sessionID(key), Kind: kind, AuthAt: now}, nil
}

// trimSessions ends the oldest sessions of name beyond the limit.
func (a *Auth) trimSessions(tx state.Tx, name string) error {
	type ks struct {
		k string
		t time.Time
	}
	var mine []ks
	if err := forSessions(tx, func(k string, s *session) error {
		if s != nil && s.User == name {
			mine = append(mine, ks{k, s.Created})
		}
		return nil
	}); err != nil {
		return err
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].t.Before(mine[j].t) })
	for len(mine) >= maxSessionsPerUser {
		if err := tx.Delete(state.BucketSessions, mine[0].k); err != nil {
			return err
		}
		mine = mine[1:]
	}
	return nil
}

// touchEvery is how stale a session's last-seen time may get before a
// request writes it: it spares a write per request, and can only end a
// session early, never late.
func (a *Auth) touchEvery() time.Duration { return min(30*time.Second, a.cfg.IdleTimeout/10) }

// Authenticate returns the principal of a session token presented from
// source. A token that is unknown, expired (idle or absolute), or whose
// user was changed, disabled or deleted is refused with KindUnauthenticated
// (IEC 62443-4-2 CR 2.6: session termination).
func (a *Auth) Authenticate(ctx context.Context, tok Token, source string) (*Principal, error) {
	if !tok.wellFormed() {
		return nil, refuse(KindUnauthenticated, "no valid session")
	}
	key := tok.storageKey()
	now := a.now()
	var s *session
	var u *user
	err := a.cfg.Store.View(func(tx state.Tx) error {
		var err error
		if s, err = getSession(tx, key); err != nil {
			return err
		}
		u, err = getUser(tx, s.User)
		if isNotFound(err) {
			u, err = nil, nil
		}
		return err
	})
	if isNotFound(err) {
		return nil, refuse(KindUnauthenticated, "no valid session")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate session: %w", err)
	}
	if why := a.expired(s, u, now); why != "" {
		a.endSession(ctx, key, s, endCode(why), why, "system", source)
		return nil, refuse(KindUnauthenticated, "the session has ended: %s", why)
	}
	if now.Sub(s.LastSeen) >= a.touchEvery() {
		err := a.cfg.Store.Update(func(tx state.Tx) error {
			cur, err := getSession(tx, key)
			if err != nil {
				return err
			}
			cur.LastSeen = now
			return putSession(tx, key, cur)
		})
		if isNotFound(err) {
			return nil, refuse(KindUnauthenticated, "no valid session")
		}
		if err != nil {
			return nil, fmt.Errorf("authenticate session: %w", err)
		}
	}
	return &Principal{Name: u.Name, Role: u.Role, Source: source, SessionID: sessionID(key), Kind: s.Kind, AuthAt: s.AuthAt}, nil
}

// expired says why s is no longer valid, or "".
func (a *Auth) expired(s *session, u *user, now time.Time) string {
	switch {
	case now.Sub(s.LastSeen) > a.cfg.IdleTimeout:
		return "idle timeout"
	case now.Sub(s.Created) > a.cfg.AbsoluteTimeout:
		return "absolute timeout"
	case u == nil:
		return "the account was deleted"
	case !u.active():
		return "the account is disabled"
	case u.Gen != s.Gen:
		return "the account's password or role changed"
	}
	return ""
}

// endCode is the event code for a session that ended for reason why.
func endCode(why string) string {
	if strings.HasSuffix(why, "timeout") {
		return "auth.session.timeout"
	}
	return "auth.session.revoked"
}

func (a *Auth) endSession(ctx context.Context, key string, s *session, code, why, actor, source string) {
	err := a.cfg.Store.Update(func(tx state.Tx) error { return tx.Delete(state.BucketSessions, key) })
	if err != nil {
		a.log.Error("end session", "session", sessionID(key), "err", err)
	}
	if code != "auth.session.terminated" {
		actor = s.User
	}
	a.event(ctx, code, eventlog.SeverityInfo, actor, source, "A session of "+s.User+" ended: "+why+".",
		map[string]string{"session": sessionID(key), "user": s.User, "reason": why})
}

// Logout ends the session of tok.
func (a *Auth) Logout(ctx context.Context, tok Token, source string) error {
	if !tok.wellFormed() {
		return refuse(KindUnauthenticated, "no valid session")
	}
	key := tok.storageKey()
	var s *session
	err := a.cfg.Store.Update(func(tx state.Tx) (err error) {
		if s, err = getSession(tx, key); err != nil {
			return err
		}
		return tx.Delete(state.BucketSessions, key)
	})
	if isNotFound(err) {
		return refuse(KindUnauthenticated, "no valid session")
	}
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	a.event(ctx, "auth.logout", eventlog.SeverityInfo, s.User, source, "User "+s.User+" logged out.", map[string]string{"session": sessionID(key)})
	return nil
}

// Reauthenticate checks p's password again and renews the session's
// authentication time, for critical actions (issue 4, item 7).
func (a *Auth) Reauthenticate(ctx context.Context, p *Principal, tok Token, password string) error {
	if p.SessionID == "" || !tok.wellFormed() || sessionID(tok.storageKey()) != p.SessionID {
		return refuse(KindForbidden, "only a password session can re-authenticate")
	}
	if _, err := a.checkPassword(ctx, p.Name, password, p.Source); err != nil {
		return err
	}
	key, now := tok.storageKey(), a.now()
	err := a.cfg.Store.Update(func(tx state.Tx) error {
		s, err := getSession(tx, key)
		if err != nil {
			return err
		}
		s.AuthAt, s.LastSeen = now, now
		return putSession(tx, key, s)
	})
	if err != nil {
		return fmt.Errorf("re-authenticate: %w", err)
	}
	p.AuthAt = now
	a.event(ctx, "auth.reauth.succeeded", eventlog.SeverityInfo, p.Name, p.Source, "User "+p.Name+" re-authenticated for a critical action.", nil)
	return nil
}

// Authorize checks that p may use permission perm: its role grants it and,
// for a critical permission, p authenticated with a password within the
// re-authentication window. Refusals are recorded as access events.
func (a *Auth) Authorize(ctx context.Context, p *Principal, perm Permission) error {
	if perm == PermPublic {
		return nil
	}
	if p == nil {
		return refuse(KindUnauthenticated, "authentication required")
	}
	if !p.Role.Allows(perm) {
		a.alert(ctx, eventlog.Event{Code: "access.denied", Category: eventlog.CategoryAccess, Severity: eventlog.SeverityWarning,
			Actor: p.Name, Source: p.Source, Message: "Access denied: role " + string(p.Role) + " lacks permission " + string(perm) + ".",
			Fields: map[string]string{"permission": string(perm), "role": string(p.Role)}})
		return refuse(KindForbidden, "your role (%s) does not allow this (%s)", p.Role, perm)
	}
	if perm.Critical() && (p.AuthAt.IsZero() || a.now().Sub(p.AuthAt) > a.cfg.ReauthWindow) {
		return refuse(KindReauthRequired, "this is a critical action: enter your password again (re-authentication older than %s)", a.cfg.ReauthWindow)
	}
	return nil
}

// Sessions lists the live sessions, oldest first.
func (a *Auth) Sessions() ([]SessionInfo, error) {
	var out []SessionInfo
	err := a.cfg.Store.View(func(tx state.Tx) error {
		return forSessions(tx, func(k string, s *session) error {
			if s != nil {
				out = append(out, SessionInfo{ID: sessionID(k), User: s.User, Kind: s.Kind, Source: s.Source, Created: s.Created, LastSeen: s.LastSeen})
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

// EndSession ends the session with the given ID (from Sessions) on behalf
// of actor (IEC 62443-4-2 CR 2.6).
func (a *Auth) EndSession(ctx context.Context, actor *Principal, id string) error {
	if err := a.Authorize(ctx, actor, PermSessionsManage); err != nil {
		return err
	}
	var found string
	var fs *session
	err := a.cfg.Store.View(func(tx state.Tx) error {
		return forSessions(tx, func(k string, s *session) error {
			if s != nil && len(id) == 16 && sessionID(k) == id {
				found, fs = k, s
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("end session %s: %w", clip(id), err)
	}
	if found == "" {
		return refuse(KindNotFound, "no session %q", clip(id))
	}
	a.endSession(ctx, found, fs, "auth.session.terminated", "ended by "+actor.Name, actor.Name, actor.Source)
	return nil
}

// SweepSessions removes sessions that have expired, each with an event.
func (a *Auth) SweepSessions(ctx context.Context) error {
	now := a.now()
	type dead struct {
		k, why string
		s      *session
	}
	var ds []dead
	err := a.cfg.Store.View(func(tx state.Tx) error {
		return forSessions(tx, func(k string, s *session) error {
			if s == nil {
				ds = append(ds, dead{k, "damaged record", &session{User: "?"}})
				return nil
			}
			u, err := getUser(tx, s.User)
			if isNotFound(err) {
				u, err = nil, nil
			}
			if err != nil {
				return err
			}
			if why := a.expired(s, u, now); why != "" {
				ds = append(ds, dead{k, why, s})
			}
			return nil
		})
	})
	for _, d := range ds {
		a.endSession(ctx, d.k, d.s, endCode(d.why), d.why, "system", "auth")
	}
	if err != nil {
		return fmt.Errorf("sweep sessions: %w", err)
	}
	if len(ds) > 0 {
		a.log.Info("expired sessions removed", "count", strconv.Itoa(len(ds)))
	}
	return nil
}
