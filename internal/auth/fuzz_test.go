package auth

import (
	"strings"
	"testing"
)

func FuzzParsePHC(f *testing.F) {
	f.Add(hashPassword("fuzz seed password", testParams))
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=4294967295,t=2,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2i$v=19$m=1,t=1,p=1$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParsePHC(s)
		if err != nil {
			return
		}
		if h.Params.MemoryKiB > maxMemoryKiB || h.Params.Time > maxTime || h.Params.Threads > maxThreads {
			t.Fatalf("accepted out-of-range parameters %+v", h.Params)
		}
		again, err := ParsePHC(h.String())
		if err != nil || again.String() != h.String() {
			t.Fatalf("re-marshal of %q: %q, %v", s, h.String(), err)
		}
	})
}

func FuzzSetupCode(f *testing.F) {
	f.Add(newSetupCode())
	f.Add("7k3qd 9xw2m abcde fghjk")
	f.Add("IIIII-LLLLL-OOOOO-UUUUU")
	f.Fuzz(func(t *testing.T, s string) {
		n := normalizeSetupCode(s)
		for _, r := range n {
			if !strings.ContainsRune(crockford, r) {
				t.Fatalf("normalized %q to %q with %q outside the alphabet", s, n, r)
			}
		}
		if n != "" && normalizeSetupCode(n) != n {
			t.Fatalf("normalization not idempotent: %q -> %q", n, normalizeSetupCode(n))
		}
	})
}

func FuzzPasswordPolicy(f *testing.F) {
	f.Add("alice", "correct horse battery staple")
	f.Add("bob", "ééééééééééééééé")
	f.Add("x", "\xff")
	p := Policy{MinLength: 15, DeviceName: "icu-monitor-7"}
	f.Fuzz(func(t *testing.T, user, pw string) {
		err := p.Check(user, pw)
		if err == nil && (len([]rune(pw)) < 15 || blocklisted(pw)) {
			t.Fatalf("accepted %q", pw)
		}
		if err != nil && KindOf(err) != KindWeakPassword {
			t.Fatalf("Check error of kind %q: %v", KindOf(err), err)
		}
	})
}
