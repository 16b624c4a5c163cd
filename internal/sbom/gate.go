package sbom

import (
	"fmt"
	"strings"
	"time"
)

// Gap is one missing element of the SBOM: which component (its ref, or
// "document") lacks which field.
type Gap struct {
	Component string `json:"component"`
	Field     string `json:"field"`
	Rule      string `json:"rule"` // "NTIA" (minimum elements, 2021) or "FDA" (premarket guidance)
}

// IncompleteError is the completeness gate's verdict: every gap found.
type IncompleteError struct{ Gaps []Gap }

func (e *IncompleteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sbom incomplete: %d missing element(s)", len(e.Gaps))
	for i, g := range e.Gaps {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(e.Gaps)-10)
			break
		}
		fmt.Fprintf(&b, "; %s: no %s (%s)", g.Component, g.Field, g.Rule)
	}
	return b.String()
}

// Check is the completeness gate. It returns an *IncompleteError listing
// every component that lacks one of the NTIA minimum elements (supplier
// name, component name, version, unique identifier, dependency
// relationship; author and timestamp of the SBOM data) or one of the FDA
// fields (support level, end-of-support date), or nil.
func Check(d *Document) error {
	var gaps []Gap
	if d.Author == "" {
		gaps = append(gaps, Gap{"document", "author", "NTIA"})
	}
	if d.Timestamp.IsZero() {
		gaps = append(gaps, Gap{"document", "timestamp", "NTIA"})
	}
	reached := map[string]bool{}
	var mark func(string, int)
	mark = func(ref string, depth int) {
		if reached[ref] || depth > 64 {
			return
		}
		reached[ref] = true
		for _, to := range d.Dependencies[ref] {
			mark(to, depth+1)
		}
	}
	mark(d.Product.Ref, 0)
	all := append([]Component{d.Product}, d.Components...)
	for i, c := range all {
		name := c.Ref
		if name == "" {
			name = fmt.Sprintf("component %d (%s)", i, c.Name)
		}
		need := func(v, field, rule string) {
			if strings.TrimSpace(v) == "" || v == "NOASSERTION" {
				gaps = append(gaps, Gap{name, field, rule})
			}
		}
		need(c.Name, "name", "NTIA")
		need(c.Version, "version", "NTIA")
		if c.Version == "(devel)" {
			gaps = append(gaps, Gap{name, "version (is \"(devel)\")", "NTIA"})
		}
		need(c.Supplier, "supplier", "NTIA")
		need(c.PURL, "unique identifier (package URL)", "NTIA")
		if i > 0 && !reached[c.Ref] {
			gaps = append(gaps, Gap{name, "dependency relationship", "NTIA"})
		}
		need(c.SupportLevel, "support level", "FDA")
		need(c.EndOfSupport, "end-of-support date", "FDA")
		if c.EndOfSupport != "" {
			if _, err := time.Parse(time.DateOnly, c.EndOfSupport); err != nil {
				gaps = append(gaps, Gap{name, "end-of-support date (not YYYY-MM-DD)", "FDA"})
			}
		}
	}
	if len(gaps) > 0 {
		return &IncompleteError{Gaps: gaps}
	}
	return nil
}
