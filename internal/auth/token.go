package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"strings"
)

// tokenPrefix marks medguard session tokens, so that a leaked one is easy
// to recognise in a secret scanner.
const tokenPrefix = "mgs_"

// Token is a session token: 256 random bits. It is handed to the client once
// and never stored; the state store keeps only its SHA-256 hash. It redacts
// itself in String, GoString and slog (STYLE.md, habit 8).
type Token struct {
	_ [0]func() // not comparable
	v string
}

func newToken() Token {
	b := make([]byte, 32)
	rand.Read(b)
	return Token{v: tokenPrefix + base64.RawURLEncoding.EncodeToString(b)}
}

// ParseToken wraps a token received from a client. It does not check it.
func ParseToken(s string) Token { return Token{v: s} }

// Reveal returns the token's value, to send it to its owner.
func (t Token) Reveal() string { return t.v }

// IsZero reports whether t is empty.
func (t Token) IsZero() bool { return t.v == "" }

// Equal compares two tokens in constant time.
func (t Token) Equal(o Token) bool { return subtle.ConstantTimeCompare([]byte(t.v), []byte(o.v)) == 1 }

func (t Token) String() string       { return "[REDACTED]" }
func (t Token) GoString() string     { return "auth.Token([REDACTED])" }
func (t Token) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }
func (t Token) wellFormed() bool {
	return strings.HasPrefix(t.v, tokenPrefix) && len(t.v) == len(tokenPrefix)+43
}
func (t Token) storageKey() string       { h := sha256.Sum256([]byte(t.v)); return hex.EncodeToString(h[:]) }
func sessionID(storageKey string) string { return storageKey[:16] }

// CSRF returns the anti-CSRF token bound to this session token:
// HMAC-SHA256 keyed with the session token. A cookie session must send it
// in the X-CSRF-Token header with every state-changing request (OWASP ASVS
// 5.0 V3.5); a cross-site page cannot read it.
func (t Token) CSRF() string {
	m := hmac.New(sha256.New, []byte(t.v))
	m.Write([]byte("medguard csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports in constant time whether csrf belongs to t.
func (t Token) CheckCSRF(csrf string) bool {
	return !t.IsZero() && hmac.Equal([]byte(t.CSRF()), []byte(csrf))
}
