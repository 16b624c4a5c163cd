package vuln

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A Version is one parsed version of a versioning scheme. Versions of
// different schemes never meet: a range is compiled for one scheme and every
// component version is parsed with the same scheme before comparing.
type Version interface {
	// Compare returns -1, 0 or +1 as v is lower than, equal to or higher
	// than w. w must come from the same scheme.
	Compare(w Version) int
}

// Scheme parses the version strings of one ecosystem.
type Scheme interface {
	Parse(s string) (Version, error)
	Name() string
}

// ErrVersion is returned (wrapped) for a version string that its scheme
// cannot read.
var ErrVersion = errors.New("invalid version")

// zeroVersion is OSV's "0": lower than every version of every scheme.
type zeroVersion struct{}

func (zeroVersion) Compare(w Version) int {
	if _, ok := w.(zeroVersion); ok {
		return 0
	}
	return -1
}

// compare handles zeroVersion on either side.
func compare(v, w Version) int {
	if _, ok := w.(zeroVersion); ok {
		if _, ok := v.(zeroVersion); ok {
			return 0
		}
		return 1
	}
	return v.Compare(w)
}

// SchemeFor returns the version scheme of an OSV ecosystem ("Go",
// "Debian", "Debian:12") and range type ("SEMVER", "ECOSYSTEM"), or nil if
// medguard does not know how that ecosystem orders its versions; such
// ranges are not evaluated and only the explicit "versions" list counts.
func SchemeFor(ecosystem, rangeType string) Scheme {
	switch rangeType {
	case "SEMVER":
		return Semver{}
	case "ECOSYSTEM":
		switch baseEcosystem(ecosystem) {
		case "Go":
			return Semver{}
		case "Debian", "Ubuntu":
			return Debian{}
		}
	}
	return nil
}

// baseEcosystem drops the release suffix of an OSV ecosystem ("Debian:12"
// becomes "Debian").
func baseEcosystem(e string) string {
	b, _, _ := strings.Cut(e, ":")
	return b
}

// Semver is Semantic Versioning 2.0.0 as OSV's SEMVER ranges and the Go
// ecosystem use it. A leading "v" (Go module versions) and "go" (Go
// toolchain versions such as go1.22.3, go1.21rc2) are accepted; build
// metadata ("+incompatible") is ignored for ordering, as the spec says.
type Semver struct{}

// Name implements Scheme.
func (Semver) Name() string { return "semver" }

type semver struct {
	major, minor, patch uint64
	pre                 []string // prerelease identifiers; nil for a release
}

// Parse implements Scheme.
func (Semver) Parse(s string) (Version, error) {
	if s == "0" {
		return zeroVersion{}, nil
	}
	orig := s
	if strings.HasPrefix(s, "go") {
		s = goToolchainToSemver(s[2:])
	} else {
		s = strings.TrimPrefix(s, "v")
	}
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	core, pre, hasPre := strings.Cut(s, "-")
	var v semver
	parts := strings.Split(core, ".")
	if len(parts) < 1 || len(parts) > 3 {
		return nil, fmt.Errorf("%w: semver %q", ErrVersion, orig)
	}
	nums := [3]*uint64{&v.major, &v.minor, &v.patch}
	for i, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') || !allDigits(p) {
			return nil, fmt.Errorf("%w: semver %q", ErrVersion, orig)
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: semver %q", ErrVersion, orig)
		}
		*nums[i] = n
	}
	if hasPre {
		v.pre = strings.Split(pre, ".")
		for _, id := range v.pre {
			if id == "" {
				return nil, fmt.Errorf("%w: semver %q: empty prerelease identifier", ErrVersion, orig)
			}
		}
	}
	return v, nil
}

// goToolchainToSemver turns "1.21.3" / "1.21" / "1.21rc2" / "1.21.0 X:foo"
// into semver.
func goToolchainToSemver(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		s = s[:i]
	}
	for _, tag := range []string{"rc", "beta", "alpha"} {
		if i := strings.Index(s, tag); i > 0 {
			base := s[:i]
			if strings.Count(base, ".") == 1 {
				base += ".0"
			}
			return base + "-" + tag + "." + s[i+len(tag):]
		}
	}
	if strings.Count(s, ".") == 1 {
		s += ".0"
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// Compare implements Version.
func (v semver) Compare(wv Version) int {
	if _, ok := wv.(zeroVersion); ok {
		return 1
	}
	w := wv.(semver)
	if c := cmpU(v.major, w.major); c != 0 {
		return c
	}
	if c := cmpU(v.minor, w.minor); c != 0 {
		return c
	}
	if c := cmpU(v.patch, w.patch); c != 0 {
		return c
	}
	// A release is higher than any of its prereleases.
	switch {
	case v.pre == nil && w.pre == nil:
		return 0
	case v.pre == nil:
		return 1
	case w.pre == nil:
		return -1
	}
	for i := 0; i < len(v.pre) && i < len(w.pre); i++ {
		if c := cmpPrerelease(v.pre[i], w.pre[i]); c != 0 {
			return c
		}
	}
	return cmpU(uint64(len(v.pre)), uint64(len(w.pre)))
}

// cmpPrerelease orders two prerelease identifiers (semver §11.4):
// numeric ones numerically and below alphanumeric ones, which compare in
// ASCII order.
func cmpPrerelease(a, b string) int {
	an, bn := allDigits(a), allDigits(b)
	switch {
	case an && bn:
		if len(a) != len(b) {
			return cmpU(uint64(len(a)), uint64(len(b)))
		}
		return strings.Compare(a, b)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
