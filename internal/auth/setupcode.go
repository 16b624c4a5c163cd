package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// Setup codes are 20 symbols of Crockford's base32 (100 bits), written in
// four groups of five: "7K3QD-9XW2M-…". Crockford's alphabet has no I, L, O
// or U; when reading, I and L count as 1, O as 0, case and the separators
// '-' and ' ' are ignored, so that a code read off a screen and typed by a
// person still matches.
const (
	crockford     = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	setupCodeLen  = 20 // symbols: 100 bits ≥ the 80 of issue 4
	setupCodeRune = 5  // symbols per group
)

// newSetupCode returns a fresh setup code in its display form.
func newSetupCode() string {
	var b strings.Builder
	raw := make([]byte, setupCodeLen)
	rand.Read(raw)
	for i, v := range raw {
		if i > 0 && i%setupCodeRune == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(crockford[v&31]) // 256 is a multiple of 32: no bias
	}
	return b.String()
}

// normalizeSetupCode maps a typed code to its canonical symbols, or returns
// "" if it contains a character outside the alphabet.
func normalizeSetupCode(s string) string {
	if len(s) > 64 {
		return ""
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'I' || r == 'L':
			r = '1'
		case r == 'O':
			r = '0'
		case !strings.ContainsRune(crockford, r):
			return ""
		}
		b.WriteRune(r)
	}
	return b.String()
}

// setupCodeMatches compares a typed code with the canonical hash of the
// issued one in constant time.
func setupCodeMatches(typed string, want [32]byte) bool {
	n := normalizeSetupCode(typed)
	got := sha256.Sum256([]byte(n))
	return len(n) == setupCodeLen && subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

func setupCodeHash(display string) [32]byte {
	return sha256.Sum256([]byte(normalizeSetupCode(display)))
}
