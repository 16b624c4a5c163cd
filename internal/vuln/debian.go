package vuln

import (
	"fmt"
	"strconv"
	"strings"
)

// Debian orders versions as dpkg does (Debian Policy Manual §5.6.12,
// "Version"): [epoch:]upstream_version[-debian_revision], where the epoch
// is compared numerically and the two other parts with the policy's
// algorithm: alternate runs of non-digits (compared character by character,
// letters before non-letters, '~' before everything, even the end of the
// string) and runs of digits (compared numerically).
type Debian struct{}

// Name implements Scheme.
func (Debian) Name() string { return "debian" }

type debVersion struct {
	epoch    uint64
	upstream string
	revision string
}

// Parse implements Scheme. It accepts what dpkg accepts: the upstream part
// must start with a digit and consist of alphanumerics and . + - ~ (a
// hyphen only when there is a revision); the revision of alphanumerics and
// + . ~.
func (Debian) Parse(s string) (Version, error) {
	if s == "0" {
		return zeroVersion{}, nil
	}
	orig := s
	s = strings.TrimSpace(s)
	var v debVersion
	if e, rest, ok := strings.Cut(s, ":"); ok {
		if !allDigits(e) {
			return nil, fmt.Errorf("%w: debian %q: epoch is not a number", ErrVersion, orig)
		}
		n, err := strconv.ParseUint(e, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: debian %q: epoch out of range", ErrVersion, orig)
		}
		v.epoch, s = n, rest
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		v.upstream, v.revision = s[:i], s[i+1:]
		if v.revision == "" {
			return nil, fmt.Errorf("%w: debian %q: empty revision", ErrVersion, orig)
		}
	} else {
		v.upstream = s
	}
	if v.upstream == "" || v.upstream[0] < '0' || v.upstream[0] > '9' {
		return nil, fmt.Errorf("%w: debian %q: upstream version must start with a digit", ErrVersion, orig)
	}
	for _, c := range v.upstream {
		if !isAlnum(c) && !strings.ContainsRune(".+-~", c) {
			return nil, fmt.Errorf("%w: debian %q: character %q not allowed in upstream version", ErrVersion, orig, c)
		}
	}
	for _, c := range v.revision {
		if !isAlnum(c) && !strings.ContainsRune(".+~", c) {
			return nil, fmt.Errorf("%w: debian %q: character %q not allowed in revision", ErrVersion, orig, c)
		}
	}
	return v, nil
}

func isAlnum(c rune) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Compare implements Version.
func (v debVersion) Compare(wv Version) int {
	if _, ok := wv.(zeroVersion); ok {
		return 1
	}
	w := wv.(debVersion)
	if c := cmpU(v.epoch, w.epoch); c != 0 {
		return c
	}
	if c := debCompareString(v.upstream, w.upstream); c != 0 {
		return c
	}
	return debCompareString(v.revision, w.revision)
}

// CompareDebian compares two Debian version strings (-1, 0, +1), or
// reports which of them is not a valid Debian version.
func CompareDebian(a, b string) (int, error) {
	va, err := Debian{}.Parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := Debian{}.Parse(b)
	if err != nil {
		return 0, err
	}
	return compare(va, vb), nil
}

// debOrder is the weight of a character in the non-digit runs: '~' sorts
// before anything (even the end), letters before non-letters.
func debOrder(c byte) int {
	switch {
	case c == '~':
		return -1
	case c >= '0' && c <= '9':
		return 0
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return int(c)
	}
	return int(c) + 256
}

// debCompareString is dpkg's verrevcmp.
func debCompareString(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		// Non-digit run.
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := 0, 0
			if i < len(a) && !isDigit(a[i]) {
				ac = debOrder(a[i])
			}
			if j < len(b) && !isDigit(b[j]) {
				bc = debOrder(b[j])
			}
			if ac != bc {
				if ac < bc {
					return -1
				}
				return 1
			}
			if i < len(a) && !isDigit(a[i]) {
				i++
			}
			if j < len(b) && !isDigit(b[j]) {
				j++
			}
		}
		// Digit run: skip leading zeros, then the longer number is larger,
		// else the first differing digit decides.
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		first := 0
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if first == 0 {
				first = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if first != 0 {
			if first < 0 {
				return -1
			}
			return 1
		}
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
