package keystore

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
)

// Secret holds secret key material. It never prints its value (String,
// GoString and slog.LogValue redact it), compares in constant time, and is
// zeroed by Zero when no longer needed (STYLE.md, habit 8).
//
// A Secret must not be compared with ==; use Equal.
type Secret struct {
	_ [0]func() // not comparable
	b []byte
}

// NewSecret takes ownership of b: the caller must not use b afterwards.
func NewSecret(b []byte) *Secret { return &Secret{b: b} }

// Bytes returns the secret value. The slice aliases the Secret's storage and
// is zeroed by Zero: copy it if it must outlive the Secret.
func (s *Secret) Bytes() []byte {
	if s == nil {
		return nil
	}
	return s.b
}

// Len returns the length of the secret in bytes.
func (s *Secret) Len() int {
	if s == nil {
		return 0
	}
	return len(s.b)
}

// Equal reports, in constant time for equal lengths, whether s and o hold
// the same value.
func (s *Secret) Equal(o *Secret) bool {
	return subtle.ConstantTimeCompare(s.Bytes(), o.Bytes()) == 1
}

// Clone returns an independent copy of s.
func (s *Secret) Clone() *Secret {
	return NewSecret(append([]byte(nil), s.Bytes()...))
}

// Zero overwrites the secret value with zeros. It is safe to call more than
// once and on a nil Secret.
func (s *Secret) Zero() {
	if s == nil {
		return
	}
	clear(s.b)
	s.b = nil
}

// The methods below have value receivers so that a Secret printed by value
// (fmt.Println(*s), a struct holding a Secret) is redacted too.

// String implements fmt.Stringer without revealing the value.
func (Secret) String() string { return "[REDACTED]" }

// GoString implements fmt.GoStringer without revealing the value.
func (Secret) GoString() string { return "keystore.Secret([REDACTED])" }

// Format implements fmt.Formatter: every verb (%x and %d included) prints
// the redaction, never the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	io.WriteString(f, s.String())
}

// LogValue implements slog.LogValuer without revealing the value.
func (Secret) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }
