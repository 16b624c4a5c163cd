package integrity

import (
	"errors"
	"fmt"
)

// Reason classifies a security failure.
type Reason string

// The reasons a manifest or a file is refused.
const (
	ReasonBadSignature Reason = "bad-signature" // no valid signature, or a malformed envelope
	ReasonThreshold    Reason = "threshold"     // valid signatures from fewer trusted keys than required
	ReasonRollback     Reason = "rollback"      // security version below the floor
	ReasonMalformed    Reason = "malformed"     // a signed payload that is not a valid manifest
	ReasonTampered     Reason = "tampered"      // a file differs from the manifest
	ReasonNotListed    Reason = "not-listed"    // a file the manifest does not list
)

// SecurityError is a security failure: tampering, a bad signature, too few
// signers, a rollback. It is distinct from I/O errors so that no caller can
// mistake one for the other; test with errors.As or IsSecurity.
type SecurityError struct {
	Reason Reason
	Msg    string
	Err    error // optional cause
}

func (e *SecurityError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("integrity: %s: %s: %v", e.Reason, e.Msg, e.Err)
	}
	return fmt.Sprintf("integrity: %s: %s", e.Reason, e.Msg)
}

func (e *SecurityError) Unwrap() error { return e.Err }

func securityf(r Reason, format string, a ...any) *SecurityError {
	return &SecurityError{Reason: r, Msg: fmt.Sprintf(format, a...)}
}

// IsSecurity reports whether err is (or wraps) a *SecurityError.
func IsSecurity(err error) bool {
	var se *SecurityError
	return errors.As(err, &se)
}
