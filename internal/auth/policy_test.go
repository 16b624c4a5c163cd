package auth

import (
	"strings"
	"testing"
)

// Attack: weak and blocklisted passwords are refused, with the reason.
func TestPasswordPolicy(t *testing.T) {
	p := Policy{MinLength: 15, DeviceName: "icu-monitor-7"}
	tests := []struct {
		user, pw, reason string
	}{
		{"alice", "short", "too_short"},
		{"alice", "fourteen chars", "too_short"},
		{"alice", "ééééééééééééé✓", "too_short"},        // 14 code points, 28 bytes: counted as code points
		{"alice", "ééééééééééééé✓x", ""},                // 15 code points
		{"alice", "alice is my name okay", "context"},   // user name
		{"alice", "my ICU-MONITOR-7 pass", "context"},   // device name, any case
		{"alice", "MedGuard rules the ward", "context"}, // product name
		{"bob", "passwordpassword", "blocklisted"},
		{"bob", "1qaz2wsx3edc4rfv", "blocklisted"},
		{"bob", "qwertyuiopasdfgh", ""},
		{"bob", "!!!starwarsstarwars2024", "blocklisted"},
		{"bob", "12345678901234567890", "blocklisted"}, // "1234567890" twice
		{"bob", "aaaaaaaaaaaaaaaaaaaa", "repetitive"},
		{"bob", "abcabcabcabcabcabc", "repetitive"},
		{"bob", "Trustno1Trustno1!", "blocklisted"}, // a common password doubled
		{"bob", "correct horse battery staple", ""},
		{"bob", strings.Repeat("xy1", 22), "repetitive"},
		{"bob", "a\x00b" + strings.Repeat("q", 20), "control"},
		{"bob", "\xff\xfe" + strings.Repeat("k", 20), "encoding"},
		{"bob", strings.Repeat("z", 20) + strings.Repeat("y", MaxPasswordLength), "too_long"},
	}
	for _, tt := range tests {
		err := p.Check(tt.user, tt.pw)
		if tt.reason == "" {
			if err != nil {
				t.Errorf("Check(%q, %q) = %v, want ok", tt.user, tt.pw, err)
			}
			continue
		}
		e, ok := err.(*Error)
		if !ok || e.Kind != KindWeakPassword {
			t.Errorf("Check(%q, %q) = %v, want weak password (%s)", tt.user, tt.pw, err, tt.reason)
			continue
		}
		if e.Reason != tt.reason && !(tt.reason == "blocklisted" && e.Reason == "repetitive") {
			t.Errorf("Check(%q, %q) reason %q, want %q", tt.user, tt.pw, e.Reason, tt.reason)
		}
		if !strings.HasPrefix(e.Msg, "password refused: ") {
			t.Errorf("message %q does not say why", e.Msg)
		}
	}
}

func TestPolicyAllows64AndMinimumNeverBelow8(t *testing.T) {
	long := "the quick brown fox jumps over the lazy dog while seven owls watch!" // 67
	if err := (Policy{MinLength: 15}).Check("bob", long); err != nil {
		t.Fatalf("67-character password refused: %v", err)
	}
	if err := (Policy{MinLength: 1}).Check("bob", "zq8#vk2"); err == nil {
		t.Fatal("a 7-character password accepted with MinLength 1: the floor is 8")
	}
}

func TestBlocklistIsTheZxcvbnList(t *testing.T) {
	if n := BlocklistSize(); n < 29000 {
		t.Fatalf("blocklist has %d entries, want the 30,000 of zxcvbn", n)
	}
	for _, pw := range []string{"password", "123456", "dragon", "letmein", "trustno1", "Password123!", "DRAGON2024"} {
		if !blocklisted(pw) {
			t.Errorf("%q not blocklisted", pw)
		}
	}
}
