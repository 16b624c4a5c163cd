package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/state"
)

// user is an account as stored: the whole record is a secret value of the
// state store (AES-256-GCM, bound to its key), so that neither the hash nor
// the role can be read or changed on disk.
type user struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Hash      string    `json:"hash"`
	Disabled  bool      `json:"disabled,omitempty"`
	Suspended bool      `json:"suspended,omitempty"` // too many consecutive failures
	Failures  int       `json:"failures,omitempty"`  // consecutive failed logins
	Gen       uint64    `json:"gen"`                 // bumped when password, role or state changes
	Created   time.Time `json:"created"`
	PwChanged time.Time `json:"pw_changed"`
	LastLogin time.Time `json:"last_login,omitzero"`
}

// UserInfo is what an admin sees of an account.
type UserInfo struct {
	Name            string    `json:"name"`
	Role            Role      `json:"role"`
	Disabled        bool      `json:"disabled"`
	Suspended       bool      `json:"suspended"`
	FailedLogins    int       `json:"failed_logins"`
	Created         time.Time `json:"created"`
	PasswordChanged time.Time `json:"password_changed"`
	LastLogin       time.Time `json:"last_login,omitzero"`
}

func (u *user) info() UserInfo {
	return UserInfo{Name: u.Name, Role: u.Role, Disabled: u.Disabled, Suspended: u.Suspended,
		FailedLogins: u.Failures, Created: u.Created, PasswordChanged: u.PwChanged, LastLogin: u.LastLogin}
}

// active reports whether the account may log in.
func (u *user) active() bool { return !u.Disabled && !u.Suspended }

var userName = regexp.MustCompile(`^[a-z][a-z0-9._-]{1,31}$`)

// CanonicalUser returns the canonical (lower-case) form of a user name, or
// an error if it is not 2 to 32 letters, digits, '.', '_' and '-' starting
// with a letter. Names are unique without regard to case (IEC 62443-4-2
// CR 1.1 RE1: unique identification).
func CanonicalUser(name string) (string, error) {
	n := strings.ToLower(name)
	if !userName.MatchString(n) {
		return "", refuse(KindInvalid, "user name %q: want 2 to 32 letters, digits, '.', '_' or '-', starting with a letter", clip(name))
	}
	return n, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func getUser(tx state.Tx, name string) (*user, error) {
	b, err := tx.GetSecret(state.BucketUsers, name)
	if err != nil {
		return nil, err
	}
	var u user
	if err := json.Unmarshal(b, &u); err != nil {
		return nil, fmt.Errorf("decode user %q: %w", name, err)
	}
	return &u, nil
}

func putUser(tx state.Tx, u *user) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return tx.PutSecret(state.BucketUsers, u.Name, b)
}

func allUsers(tx state.Tx) ([]*user, error) {
	var names []string
	if err := tx.ForEach(state.BucketUsers, func(k string, _ []byte) error {
		names = append(names, k)
		return nil
	}); err != nil {
		return nil, err
	}
	out := make([]*user, 0, len(names))
	for _, n := range names {
		u, err := getUser(tx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// activeAdmins counts the admins that can log in.
func activeAdmins(tx state.Tx) (int, error) {
	us, err := allUsers(tx)
	n := 0
	for _, u := range us {
		if u.Role == RoleAdmin && u.active() {
			n++
		}
	}
	return n, err
}

// session is a login as stored under the SHA-256 of its token.
type session struct {
	User     string    `json:"user"`
	Gen      uint64    `json:"gen"`
	Kind     string    `json:"kind"` // "cookie" or "bearer"
	Source   string    `json:"src"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	AuthAt   time.Time `json:"auth_at"` // last password authentication
}

// SessionInfo is what an admin sees of a session: never the token.
type SessionInfo struct {
	ID       string    `json:"id"`
	User     string    `json:"user"`
	Kind     string    `json:"kind"`
	Source   string    `json:"source"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
}

func getSession(tx state.Tx, key string) (*session, error) {
	b, err := tx.Get(state.BucketSessions, key)
	if err != nil {
		return nil, err
	}
	var s session
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode session %s: %w", sessionID(key), err)
	}
	return &s, nil
}

func putSession(tx state.Tx, key string, s *session) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return tx.Put(state.BucketSessions, key, b)
}

// forSessions calls fn for every stored session.
func forSessions(tx state.Tx, fn func(key string, s *session) error) error {
	type kv struct {
		k string
		s *session
	}
	var all []kv
	err := tx.ForEach(state.BucketSessions, func(k string, v []byte) error {
		var s session
		if err := json.Unmarshal(v, &s); err != nil || len(k) != 64 {
			all = append(all, kv{k, nil}) // damaged: the caller deletes it
			return nil
		}
		all = append(all, kv{k, &s})
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range all {
		if err := fn(e.k, e.s); err != nil {
			return err
		}
	}
	return nil
}

// deleteUserSessions removes every session of name and returns how many.
func deleteUserSessions(tx state.Tx, name string) (int, error) {
	n := 0
	err := forSessions(tx, func(k string, s *session) error {
		if s == nil || s.User == name {
			n++
			return tx.Delete(state.BucketSessions, k)
		}
		return nil
	})
	return n, err
}

func isNotFound(err error) bool { return errors.Is(err, state.ErrNotFound) }
