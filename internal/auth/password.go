package auth

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ProductName is refused as part of any password.
const ProductName = "medguard"

// MaxPasswordLength is the longest password accepted, in code points. NIST
// SP 800-63B-4 asks for at least 64; the limit keeps hashing input bounded.
const MaxPasswordLength = 256

// Policy is the password policy of NIST SP 800-63B-4 section 3.1.1.2 and
// OWASP ASVS 5.0 V6.2: a minimum length, a blocklist, no context words, and
// nothing else (no composition rules, no expiry, no truncation).
type Policy struct {
	// MinLength in Unicode code points; at least 8.
	MinLength int
	// DeviceName is refused as part of a password.
	DeviceName string
}

// Check returns nil if password is acceptable for user, else an *Error of
// KindWeakPassword whose Reason names the rule and whose message says why.
func (p Policy) Check(user, password string) error {
	if !utf8.ValidString(password) {
		return weak("encoding", "the password is not valid UTF-8")
	}
	n := utf8.RuneCountInString(password)
	min := max(p.MinLength, 8)
	switch {
	case n < min:
		return weak("too_short", "the password has %d characters; at least %d are needed", n, min)
	case n > MaxPasswordLength:
		return weak("too_long", "the password has %d characters; at most %d are accepted", n, MaxPasswordLength)
	case strings.ContainsRune(password, 0):
		return weak("control", "the password contains a NUL character")
	}
	l := strings.ToLower(password)
	for _, w := range []struct{ what, word string }{
		{"the user name", user}, {"the device name", p.DeviceName}, {"the product name", ProductName},
	} {
		if len(w.word) >= 3 && strings.Contains(l, strings.ToLower(w.word)) {
			return weak("context", "the password contains %s", w.what)
		}
	}
	if repetitive(password) {
		return weak("repetitive", "the password is one short sequence repeated")
	}
	if blocklisted(password) {
		return weak("blocklisted", "the password is on the list of common passwords")
	}
	return nil
}

func weak(reason, format string, a ...any) *Error {
	return &Error{Kind: KindWeakPassword, Reason: reason, Msg: "password refused: " + fmt.Sprintf(format, a...)}
}

// repetitive reports whether pw is a sequence of at most 4 code points
// repeated ("aaaaaaaaaaaaaaa", "abcabcabcabcabc").
func repetitive(pw string) bool {
	r := []rune(pw)
	for unit := 1; unit <= 4 && unit < len(r); unit++ {
		same := true
		for i := unit; i < len(r); i++ {
			if r[i] != r[i%unit] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}
