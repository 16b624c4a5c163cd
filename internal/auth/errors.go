package auth

import (
	"errors"
	"fmt"
	"time"
)

// Kind is the stable, machine-readable reason why Auth refused something.
// The API sends it as the error code.
type Kind string

// Kinds of refusal.
const (
	KindUnauthenticated Kind = "unauthenticated" // wrong credentials, or no valid session
	KindThrottled       Kind = "throttled"       // too many failures: retry later
	KindBusy            Kind = "busy"            // every hashing slot is taken: retry
	KindForbidden       Kind = "forbidden"       // the role does not allow it
	KindReauthRequired  Kind = "reauth_required" // critical action: authenticate again
	KindWeakPassword    Kind = "weak_password"   // the password policy refused it
	KindNotProvisioned  Kind = "not_provisioned" // no admin exists yet
	KindProvisioned     Kind = "already_provisioned"
	KindSetupCode       Kind = "bad_setup_code" // wrong, used or expired setup code
	KindConflict        Kind = "conflict"       // e.g. the user exists, the last admin
	KindNotFound        Kind = "not_found"
	KindInvalid         Kind = "invalid" // malformed input
	KindSuspended       Kind = "suspended"
)

// Error is a refusal by Auth: a security decision, not an I/O failure
// (STYLE.md, habit 5). Callers branch on Kind; Msg is for a person and never
// says whether an account exists.
type Error struct {
	Kind Kind
	Msg  string
	// RetryAfter is set for KindThrottled and KindBusy.
	RetryAfter time.Duration
	// Reason is set for KindWeakPassword: which rule refused it.
	Reason string
}

func (e *Error) Error() string { return "auth: " + e.Msg }

func refuse(k Kind, format string, a ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, a...)}
}

// KindOf returns the Kind of an *Error in err's chain, or "" if there is
// none (an internal failure).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// errBadCredentials is the one answer to a wrong user name or password, so
// that the answer does not tell which was wrong (no user enumeration).
func errBadCredentials() *Error {
	return refuse(KindUnauthenticated, "wrong user name or password")
}
