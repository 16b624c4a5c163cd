package vuln

import (
	"errors"
	"testing"
)

func TestDebianCompare(t *testing.T) {
	// Cases from Debian Policy §5.6.12 and dpkg's own test suite.
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0-1", "1.0-1", 0},
		{"1.0", "1.0-0", 0}, // absent revision equals "0"
		{"1.0~rc1", "1.0", -1},
		{"1.0~~", "1.0~~a", -1},
		{"1.0~~a", "1.0~", -1},
		{"1.0~", "1.0", -1},
		{"1.0", "1.0a", -1},
		{"1.0a", "1.0+", -1}, // letters sort before non-letters
		{"1.0+", "1.0.", -1}, // '+' (43) before '.' (46)
		{"1:0.1", "2.0", 1},  // epoch wins
		{"0:1.0", "1.0", 0},  // epoch 0 is no epoch
		{"1.10", "1.9", 1},   // numeric, not lexical
		{"1.010", "1.10", 0}, // leading zeros
		{"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
		{"1.1.1n-0+deb11u3", "1.1.1n-0+deb11u5", -1},
		{"3.0.11-1~deb12u2", "3.0.11-1", -1},
		{"7.88.1-10+deb12u5", "7.88.1-10", 1},
		{"1:2.0-1", "1:2.0-1.1", -1},
		{"1.2-3-4", "1.2-3-5", -1}, // the last hyphen splits the revision
	}
	for _, tt := range tests {
		got, err := CompareDebian(tt.a, tt.b)
		if err != nil {
			t.Fatalf("CompareDebian(%q, %q): %v", tt.a, tt.b, err)
		}
		if got != tt.want {
			t.Errorf("CompareDebian(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		back, _ := CompareDebian(tt.b, tt.a)
		if back != -tt.want {
			t.Errorf("CompareDebian(%q, %q) = %d, not antisymmetric", tt.b, tt.a, back)
		}
	}
}

func TestDebianParseRejects(t *testing.T) {
	for _, s := range []string{"", "a1.0", "x:1.0", "1.0-", "1.0_1", "1.0-1_2", "1:", "99999999999:1"} {
		if _, err := (Debian{}).Parse(s); !errors.Is(err, ErrVersion) {
			t.Errorf("Parse(%q) = %v, want ErrVersion", s, err)
		}
	}
}

func TestSemverCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0.0", "v1.0.0", 0},
		{"1.0.0-alpha", "1.0.0", -1},
		{"1.0.0-alpha", "1.0.0-alpha.1", -1},
		{"1.0.0-alpha.1", "1.0.0-alpha.beta", -1},
		{"1.0.0-beta.2", "1.0.0-beta.11", -1},
		{"1.0.0-rc.1", "1.0.0", -1},
		{"v0.0.0-20220906165146-f3363e06e74c", "0.0.0-20220826154423-83b083e8dc8b", 1},
		{"v0.0.0-20220906165146-f3363e06e74c", "0.1.0", -1},
		{"v2.0.0+incompatible", "2.0.0", 0},
		{"go1.21.3", "1.21.3", 0},
		{"go1.21", "1.21.0", 0},
		{"go1.21rc2", "1.21.0", -1},
		{"go1.21rc2", "1.21.0-rc.1", 1},
		{"go1.26.8 X:nocoverageredesign", "1.26.8", 0},
		{"1.19.0-0", "1.19.0", -1},
		{"1.10.0", "1.9.99", 1},
		{"0", "0.0.0-0", -1},
	}
	for _, tt := range tests {
		a, err := Semver{}.Parse(tt.a)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.a, err)
		}
		b, err := Semver{}.Parse(tt.b)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.b, err)
		}
		if got := compare(a, b); got != tt.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := compare(b, a); got != -tt.want {
			t.Errorf("compare(%q, %q) = %d, not antisymmetric", tt.b, tt.a, got)
		}
	}
	for _, s := range []string{"", "1.0.0.0", "01.0.0", "1.x.0", "1.0.0-", "1.0.0-a..b", "v"} {
		if _, err := (Semver{}).Parse(s); !errors.Is(err, ErrVersion) {
			t.Errorf("Parse(%q) = %v, want ErrVersion", s, err)
		}
	}
}
