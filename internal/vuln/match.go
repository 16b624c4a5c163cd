package vuln

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"
)

// entry is one "affected" element of a record, compiled for matching.
type entry struct {
	rec      *Record
	key      pkgKey
	release  string // "12" of "Debian:12"; "" for any
	ranges   []compiledRange
	versions map[string]bool
}

type compiledRange struct {
	scheme Scheme
	events []compiledEvent // sorted by version
	limits []Version
}

type eventKind uint8

const (
	introduced eventKind = iota
	fixed
	lastAffected
)

type compiledEvent struct {
	kind eventKind
	v    Version
	raw  string
}

// purlEcosystem maps package URL types to OSV ecosystems.
var purlEcosystem = map[string]string{
	"golang": "Go", "deb": "Debian", "npm": "npm", "pypi": "PyPI",
	"maven": "Maven", "cargo": "crates.io", "gem": "RubyGems",
	"nuget": "NuGet", "composer": "Packagist", "hex": "Hex", "pub": "Pub",
}

// debianReleases maps Debian code names (purl "distro" qualifiers) to the
// release numbers of OSV's "Debian:N" ecosystems.
var debianReleases = map[string]string{
	"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14",
}

func compileEntry(r *Record, a *Affected) (*entry, error) {
	e := &entry{rec: r}
	eco := a.Package.Ecosystem
	name := a.Package.Name
	if a.Package.PURL != "" && (eco == "" || name == "") {
		k, _, _, err := keyOf(a.Package.PURL)
		if err != nil {
			return nil, err
		}
		e.key = k
	} else {
		e.key = pkgKey{baseEcosystem(eco), name}
		if e.key.ecosystem == "Go" {
			e.key.name = strings.ToLower(name) // see keyOf
		}
		_, e.release, _ = strings.Cut(eco, ":")
	}
	if e.key.name == "" {
		return nil, nil // GIT-only entries: nothing to match a package against
	}
	if len(a.Versions) > 0 {
		e.versions = make(map[string]bool, len(a.Versions))
		for _, v := range a.Versions {
			e.versions[v] = true
		}
	}
	for j, rg := range a.Ranges {
		s := SchemeFor(eco, rg.Type)
		if s == nil {
			continue // GIT, or an ecosystem whose order medguard does not know: versions list only
		}
		cr := compiledRange{scheme: s}
		for _, ev := range rg.Events {
			var ce compiledEvent
			switch {
			case ev.Introduced != "":
				ce = compiledEvent{kind: introduced, raw: ev.Introduced}
			case ev.Fixed != "":
				ce = compiledEvent{kind: fixed, raw: ev.Fixed}
			case ev.LastAffected != "":
				ce = compiledEvent{kind: lastAffected, raw: ev.LastAffected}
			case ev.Limit != "":
				v, err := s.Parse(ev.Limit)
				if err != nil {
					return nil, fmt.Errorf("ranges[%d]: limit: %w", j, err)
				}
				cr.limits = append(cr.limits, v)
				continue
			}
			v, err := s.Parse(ce.raw)
			if err != nil {
				return nil, fmt.Errorf("ranges[%d]: %w", j, err)
			}
			ce.v = v
			cr.events = append(cr.events, ce)
		}
		sort.SliceStable(cr.events, func(x, y int) bool { return compare(cr.events[x].v, cr.events[y].v) < 0 })
		e.ranges = append(e.ranges, cr)
	}
	return e, nil
}

// affects reports whether version v (already parsed per scheme by parse)
// is affected, following the OSV spec's evaluation: walk the sorted events;
// "introduced" at or below v opens, "fixed" at or below v closes,
// "last_affected" below v closes; "limit" bounds the range from above.
func (e *entry) affects(raw string, parse func(Scheme) (Version, error)) (bool, string) {
	if e.versions[raw] {
		return true, e.firstFixed(nil)
	}
	for i := range e.ranges {
		r := &e.ranges[i]
		v, err := parse(r.scheme)
		if err != nil {
			continue // a component version this scheme cannot read cannot be placed in the range
		}
		if len(r.limits) > 0 {
			below := false
			for _, l := range r.limits {
				if compare(v, l) < 0 {
					below = true
				}
			}
			if !below {
				continue
			}
		}
		vulnerable := false
		for _, ev := range r.events {
			c := compare(v, ev.v)
			switch ev.kind {
			case introduced:
				if c >= 0 {
					vulnerable = true
				}
			case fixed:
				if c >= 0 {
					vulnerable = false
				}
			case lastAffected:
				if c > 0 {
					vulnerable = false
				}
			}
		}
		if vulnerable {
			return true, e.firstFixed(v)
		}
	}
	return false, ""
}

// firstFixed returns the lowest fixed version above v (any, if v is nil).
func (e *entry) firstFixed(v Version) string {
	var best Version
	raw := ""
	for _, r := range e.ranges {
		for _, ev := range r.events {
			if ev.kind != fixed || (v != nil && compare(ev.v, v) <= 0) {
				continue
			}
			if best == nil || compare(ev.v, best) < 0 {
				best, raw = ev.v, ev.raw
			}
		}
	}
	return raw
}

// keyOf turns a package URL into the OSV package it names, the Debian
// release ("12") if the purl says, and its version.
func keyOf(purl string) (pkgKey, string, string, error) {
	p, err := packageurl.FromString(purl)
	if err != nil {
		return pkgKey{}, "", "", fmt.Errorf("package url %q: %w", purl, err)
	}
	eco, ok := purlEcosystem[p.Type]
	if !ok {
		eco = p.Type
	}
	name := p.Name
	if p.Namespace != "" {
		name = p.Namespace + "/" + p.Name
	}
	release := ""
	switch p.Type {
	case "golang":
		// The purl specification (and packageurl-go when parsing) lowercases
		// golang namespaces and names, while OSV records spell module paths
		// as published (github.com/Masterminds/goutils): both sides are
		// keyed in lower case, or every mixed-case module would be missed.
		name = strings.ToLower(name)
		if name == "std" {
			name = "stdlib"
		}
	case "deb", "rpm", "apk":
		name = p.Name // the namespace is the vendor (debian), not part of the name
		q := p.Qualifiers.Map()
		if src := q["upstream"]; src != "" {
			name = src // OSV's Debian records name the source package
			if i := strings.IndexAny(name, "@ "); i > 0 {
				name = name[:i]
			}
		}
		if d := q["distro"]; d != "" {
			d = strings.TrimPrefix(d, "debian-")
			if n, ok := debianReleases[d]; ok {
				d = n
			}
			release, _, _ = strings.Cut(d, ".")
		}
	}
	return pkgKey{eco, name}, release, p.Version, nil
}

// Finding is one vulnerability (all its aliases merged) in one component.
type Finding struct {
	ID        string    `json:"id"`                // canonical id of the alias group (lowest record id)
	Aliases   []string  `json:"aliases,omitempty"` // every other id: CVE, GHSA, GO …
	Records   []string  `json:"records"`           // the OSV records that matched
	Summary   string    `json:"summary,omitempty"`
	Component string    `json:"component"` // the component's package URL, with version
	Version   string    `json:"version"`
	Fixed     string    `json:"fixed,omitempty"` // lowest fixed version above Version, if known
	Modified  time.Time `json:"modified"`        // latest modification of the matched records
}

// Match returns the vulnerabilities that affect the component named by purl
// (which must carry a version), one Finding per alias group, sorted by id.
func (db *DB) Match(purl string) ([]Finding, error) {
	key, release, version, err := keyOf(purl)
	if err != nil {
		return nil, err
	}
	if version == "" {
		return nil, fmt.Errorf("package url %q has no version", purl)
	}
	cands := db.index[key]
	if len(cands) == 0 {
		return nil, nil
	}
	parsed := map[string]Version{}
	perr := map[string]error{}
	parse := func(s Scheme) (Version, error) {
		n := s.Name()
		if v, ok := parsed[n]; ok {
			return v, perr[n]
		}
		v, err := s.Parse(version)
		parsed[n], perr[n] = v, err
		return v, err
	}
	byGroup := map[string]*Finding{}
	for _, e := range cands {
		if e.release != "" && release != "" && e.release != release {
			continue
		}
		hit, fix := e.affects(version, parse)
		if !hit {
			continue
		}
		g := db.group[e.rec.ID]
		f := byGroup[g]
		if f == nil {
			f = &Finding{ID: g, Component: purl, Version: version, Summary: e.rec.Summary}
			f.Aliases = append(f.Aliases, db.Aliases(g)[1:]...)
			byGroup[g] = f
		}
		if !contains(f.Records, e.rec.ID) {
			f.Records = append(f.Records, e.rec.ID)
		}
		if fix != "" && (f.Fixed == "" || lessVersion(e, fix, f.Fixed)) {
			f.Fixed = fix
		}
		if e.rec.Modified.After(f.Modified) {
			f.Modified = e.rec.Modified
		}
		if f.Summary == "" {
			f.Summary = e.rec.Summary
		}
	}
	out := make([]Finding, 0, len(byGroup))
	for _, f := range byGroup {
		sort.Strings(f.Records)
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func lessVersion(e *entry, a, b string) bool {
	if len(e.ranges) == 0 {
		return a < b
	}
	s := e.ranges[0].scheme
	va, err1 := s.Parse(a)
	vb, err2 := s.Parse(b)
	if err1 != nil || err2 != nil {
		return a < b
	}
	return compare(va, vb) < 0
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
