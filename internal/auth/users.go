package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/state"
)

// Users lists every account, by name.
func (a *Auth) Users() ([]UserInfo, error) {
	var out []UserInfo
	err := a.cfg.Store.View(func(tx state.Tx) error {
		us, err := allUsers(tx)
		for _, u := range us {
			out = append(out, u.info())
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// User returns one account.
func (a *Auth) User(name string) (UserInfo, error) {
	name = lookupName(name)
	var u *user
	err := a.cfg.Store.View(func(tx state.Tx) (err error) { u, err = getUser(tx, name); return err })
	if isNotFound(err) {
		return UserInfo{}, refuse(KindNotFound, "no user %q", clip(name))
	}
	if err != nil {
		return UserInfo{}, fmt.Errorf("read user %q: %w", clip(name), err)
	}
	return u.info(), nil
}

// lookupName is the canonical form of a name to look up; a malformed name
// stays as it is and is simply not found.
func lookupName(name string) string {
	if c, err := CanonicalUser(name); err == nil {
		return c
	}
	return name
}

// hashSlot runs fn while holding a hashing slot.
func (a *Auth) hashSlot(ctx context.Context, fn func()) error {
	if !a.slots.acquire(ctx) {
		return &Error{Kind: KindBusy, Msg: "the device is busy: try again in a moment", RetryAfter: 1e9}
	}
	defer a.slots.release()
	fn()
	return nil
}

// CreateUser creates an account (admin only, critical).
func (a *Auth) CreateUser(ctx context.Context, actor *Principal, name string, role Role, password string) error {
	if err := a.Authorize(ctx, actor, PermUsersManage); err != nil {
		return err
	}
	name = lookupName(name)
	cname, err := CanonicalUser(name)
	if err != nil {
		return err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return refuse(KindInvalid, "%v", err)
	}
	if err := a.policy.Check(cname, password); err != nil {
		return err
	}
	var hash string
	if err := a.hashSlot(ctx, func() { hash = hashPassword(password, a.cfg.Argon2) }); err != nil {
		return err
	}
	now := a.now()
	err = a.cfg.Store.Update(func(tx state.Tx) error {
		if _, err := tx.Get(state.BucketUsers, cname); err == nil {
			return refuse(KindConflict, "user %q exists already", cname)
		} else if !isNotFound(err) {
			return err
		}
		return putUser(tx, &user{Name: cname, Role: role, Hash: hash, Created: now, PwChanged: now, Gen: 1})
	})
	if err != nil {
		return wrapOp("create user "+cname, err)
	}
	a.event(ctx, "auth.user.created", eventlog.SeverityNotice, actor.Name, actor.Source,
		"User account "+cname+" was created with role "+string(role)+".", map[string]string{"user": cname, "role": string(role)})
	return nil
}

func wrapOp(op string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// change applies fn to the account name in one transaction, keeps at least
// one active admin, bumps the account's generation and ends its sessions
// (issue 4, item 7: revoked when password, role or state changes).
func (a *Auth) change(name string, fn func(u *user) error) (ended int, err error) {
	name = lookupName(name)
	err = a.cfg.Store.Update(func(tx state.Tx) error {
		u, err := getUser(tx, name)
		if isNotFound(err) {
			return refuse(KindNotFound, "no user %q", clip(name))
		}
		if err != nil {
			return err
		}
		wasAdmin := u.Role == RoleAdmin && u.active()
		if err := fn(u); err != nil {
			return err
		}
		if wasAdmin && !(u.Role == RoleAdmin && u.active()) {
			if n, err := activeAdmins(tx); err != nil {
				return err
			} else if n <= 1 {
				return refuse(KindConflict, "%q is the last active admin: create another admin first", name)
			}
		}
		u.Gen++
		if ended, err = deleteUserSessions(tx, name); err != nil {
			return err
		}
		return putUser(tx, u)
	})
	return ended, err
}

// SetRole changes the role of an account (admin only, critical).
func (a *Auth) SetRole(ctx context.Context, actor *Principal, name string, role Role) error {
	if err := a.Authorize(ctx, actor, PermUsersManage); err != nil {
		return err
	}
	name = lookupName(name)
	if _, err := ParseRole(string(role)); err != nil {
		return refuse(KindInvalid, "%v", err)
	}
	old := Role("")
	n, err := a.change(name, func(u *user) error { old, u.Role = u.Role, role; return nil })
	if err != nil {
		return wrapOp("set role of "+clip(name), err)
	}
	a.event(ctx, "auth.user.role_changed", eventlog.SeverityNotice, actor.Name, actor.Source,
		"The role of "+name+" changed from "+string(old)+" to "+string(role)+".",
		map[string]string{"user": name, "old_role": string(old), "role": string(role), "sessions_ended": strconv.Itoa(n)})
	return nil
}

// SetDisabled disables or enables an account (admin only, critical).
// Enabling also lifts a suspension and clears the failure count.
func (a *Auth) SetDisabled(ctx context.Context, actor *Principal, name string, disabled bool) error {
	if err := a.Authorize(ctx, actor, PermUsersManage); err != nil {
		return err
	}
	name = lookupName(name)
	n, err := a.change(name, func(u *user) error {
		u.Disabled = disabled
		if !disabled {
			u.Suspended, u.Failures = false, 0
		}
		return nil
	})
	if err != nil {
		return wrapOp("change state of "+clip(name), err)
	}
	code, what := "auth.user.enabled", "enabled"
	if disabled {
		code, what = "auth.user.disabled", "disabled"
	}
	a.event(ctx, code, eventlog.SeverityNotice, actor.Name, actor.Source, "User account "+name+" was "+what+".",
		map[string]string{"user": name, "sessions_ended": strconv.Itoa(n)})
	return nil
}

// DeleteUser removes an account and its sessions (admin only, critical).
func (a *Auth) DeleteUser(ctx context.Context, actor *Principal, name string) error {
	if err := a.Authorize(ctx, actor, PermUsersManage); err != nil {
		return err
	}
	name = lookupName(name)
	n, err := a.change(name, func(u *user) error { u.Disabled = true; return nil })
	if err == nil {
		err = a.cfg.Store.Update(func(tx state.Tx) error { return tx.Delete(state.BucketUsers, lookupName(name)) })
	}
	if err != nil {
		return wrapOp("delete user "+clip(name), err)
	}
	a.event(ctx, "auth.user.deleted", eventlog.SeverityNotice, actor.Name, actor.Source, "User account "+name+" was deleted.",
		map[string]string{"user": name, "sessions_ended": strconv.Itoa(n)})
	return nil
}

// ResetPassword sets another user's password (admin only, critical).
func (a *Auth) ResetPassword(ctx context.Context, actor *Principal, name, password string) error {
	if err := a.Authorize(ctx, actor, PermUsersManage); err != nil {
		return err
	}
	name = lookupName(name)
	return a.setPassword(ctx, actor, name, password, "auth.password.reset")
}

// ChangePassword changes p's own password after checking the current one.
// Every session of the user ends, the caller's included; the caller gets a
// new session in return.
func (a *Auth) ChangePassword(ctx context.Context, p *Principal, current, next string) (Token, *Principal, error) {
	if p.SessionID == "" {
		return Token{}, nil, refuse(KindForbidden, "only a password session can change its password")
	}
	if _, err := a.checkPassword(ctx, p.Name, current, p.Source); err != nil {
		return Token{}, nil, err
	}
	if err := a.setPassword(ctx, p, p.Name, next, "auth.password.changed"); err != nil {
		return Token{}, nil, err
	}
	var u *user
	if err := a.cfg.Store.View(func(tx state.Tx) (err error) { u, err = getUser(tx, p.Name); return err }); err != nil {
		return Token{}, nil, fmt.Errorf("change password of %q: %w", p.Name, err)
	}
	return a.startSession(ctx, u, p.Kind, p.Source)
}

func (a *Auth) setPassword(ctx context.Context, actor *Principal, name, password, code string) error {
	if err := a.policy.Check(name, password); err != nil {
		return err
	}
	var hash string
	if err := a.hashSlot(ctx, func() { hash = hashPassword(password, a.cfg.Argon2) }); err != nil {
		return err
	}
	now := a.now()
	n, err := a.change(name, func(u *user) error { u.Hash, u.PwChanged, u.Failures = hash, now, 0; return nil })
	if err != nil {
		return wrapOp("set password of "+clip(name), err)
	}
	a.event(ctx, code, eventlog.SeverityNotice, actor.Name, actor.Source, "The password of "+name+" was changed.",
		map[string]string{"user": name, "sessions_ended": strconv.Itoa(n)})
	return nil
}
