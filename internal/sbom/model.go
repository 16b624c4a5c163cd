package sbom

import (
	"sort"
	"strings"
	"time"
)

// Component types (CycloneDX component types; SPDX primary package
// purposes are derived from them).
const (
	TypeApplication = "application"      // an executable of the release
	TypeLibrary     = "library"          // a Go module, linked in
	TypeOSPackage   = "operating-system" // a Debian package of the root filesystem
	TypeFile        = "file"             // any other file of the release
)

// Support levels a maker may state per component in the support table
// (FDA: "the level of support provided through monitoring and
// maintenance"). Written in CycloneDX as the property PropSupportLevel.
const (
	SupportActive       = "active"        // maintained: bug and security fixes
	SupportSecurityOnly = "security-only" // security fixes only
	SupportNone         = "none"          // no longer maintained by its supplier
)

// Property names used in CycloneDX.
const (
	// PropEndOfSupport is CycloneDX's registered lifecycle property for the
	// date after which the component's supplier gives no more support.
	PropEndOfSupport = "cdx:lifecycle:milestone:endOfSupport"
	// PropSupportLevel is medguard's property for the support level (one
	// of SupportActive, SupportSecurityOnly, SupportNone).
	PropSupportLevel = "medguard:support:level"
	// PropPath is the file's path in the software tree.
	PropPath = "medguard:path"
)

// Document is the SBOM of one release.
type Document struct {
	Product    Component   // the subject: the product at its release version
	Author     string      // who produced the SBOM data (NTIA "author")
	Timestamp  time.Time   // when (NTIA "timestamp")
	Components []Component // everything but the product, sorted by Ref
	// Dependencies maps a component reference to the references it
	// depends on or contains; the product's entry lists the top level.
	Dependencies map[string][]string
}

// Component is one part of the release.
type Component struct {
	Ref          string            // unique within the document: the package URL, or the path for files
	Type         string            // TypeApplication, TypeLibrary, TypeOSPackage, TypeFile
	Name         string            // module path, package name or file path
	Version      string            // never "(devel)"
	PURL         string            // package URL with version
	Supplier     string            // organisation or person that supplies it
	Hashes       map[string]string // algorithm ("SHA-256") → lower-case hex
	Path         string            // path in the software tree, for executables and files
	SupportLevel string            // SupportActive, SupportSecurityOnly, SupportNone
	EndOfSupport string            // YYYY-MM-DD
}

// Component returns the component with ref, if present.
func (d *Document) Component(ref string) (Component, bool) {
	for _, c := range d.Components {
		if c.Ref == ref {
			return c, true
		}
	}
	if d.Product.Ref == ref {
		return d.Product, true
	}
	return Component{}, false
}

// normalize sorts components and dependency lists so that output is
// deterministic.
func (d *Document) normalize() {
	sort.Slice(d.Components, func(i, j int) bool { return d.Components[i].Ref < d.Components[j].Ref })
	for k, v := range d.Dependencies {
		sort.Strings(v)
		d.Dependencies[k] = dedupe(v)
	}
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// VersionlessPURL drops the version, qualifiers and subpath of a package
// URL: the key under which releases are indexed for monitoring.
func VersionlessPURL(purl string) string {
	base, _, _ := strings.Cut(purl, "?")
	base, _, _ = strings.Cut(base, "#")
	if i := strings.LastIndexByte(base, '@'); i > strings.LastIndexByte(base, '/') {
		base = base[:i]
	}
	return base
}
