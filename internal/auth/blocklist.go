package auth

import (
	"strings"
	"sync"
	"unicode"

	"github.com/trustelem/zxcvbn/frequency"
)

// The blocklist is the "passwords" frequency list of zxcvbn 4.4.2 as shipped
// by github.com/trustelem/zxcvbn v1.0.1 (MIT licence, Copyright (c) 2018
// Vincent Vanackere and Trustelem; the list itself comes from Dropbox's
// zxcvbn, MIT licence, Copyright (c) 2012-2015 Dan Wheeler and Dropbox,
// Inc.): the 30,000 most common passwords of leaked password
// sets. OWASP ASVS 5.0 V6.2.4 asks for at least the top 3,000.
var blocklist = sync.OnceValue(func() map[string]struct{} {
	list := frequency.FrequencyLists["passwords"]
	m := make(map[string]struct{}, len(list))
	for _, p := range list {
		m[p] = struct{}{}
	}
	return m
})

// BlocklistSize returns the number of passwords on the blocklist.
func BlocklistSize() int { return len(blocklist()) }

// blocklisted reports whether pw is a common password, also when people
// dressed it up: in other case, with digits or symbols added at its ends
// ("Password123!"), or repeated ("trustno1trustno1"). The list is lower
// case, so the comparison is too.
func blocklisted(pw string) bool {
	l := strings.ToLower(pw)
	variants := []string{
		l,
		strings.TrimFunc(l, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }),
		strings.TrimFunc(l, func(r rune) bool { return !unicode.IsLetter(r) }),
	}
	bl := blocklist()
	for _, v := range variants {
		for k := 1; k <= 3; k++ {
			if len(v)%k != 0 || v == "" {
				continue
			}
			unit := v[:len(v)/k]
			if strings.Repeat(unit, k) != v {
				continue
			}
			if _, ok := bl[unit]; ok {
				return true
			}
		}
	}
	return false
}
