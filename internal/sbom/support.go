package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// SupportTable is the maker's statement, per component, of who supplies it,
// how it is supported and until when. It is a JSON file:
//
//	{"components": [
//	  {"purl": "pkg:golang/golang.org/x/*", "supplier": "The Go Authors",
//	   "support_level": "active", "end_of_support": "2030-12-31"},
//	  {"purl": "pkg:golang/stdlib", "support_level": "active", "end_of_support": "2027-08-31"}
//	]}
//
// An entry's purl is a versionless package URL, or a prefix ending in "*";
// every matching entry applies, from the shortest pattern to the longest,
// so a longer one overrides only the fields it sets.
type SupportTable struct {
	Components []SupportEntry `json:"components"`
}

// SupportEntry is one line of the table.
type SupportEntry struct {
	PURL         string `json:"purl"`
	Supplier     string `json:"supplier,omitempty"`
	SupportLevel string `json:"support_level,omitempty"`
	EndOfSupport string `json:"end_of_support,omitempty"`
}

// LoadSupportTable reads and checks a support table file.
func LoadSupportTable(path string) (*SupportTable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read support table: %w", err)
	}
	t, err := ParseSupportTable(data)
	if err != nil {
		return nil, fmt.Errorf("support table %s: %w", path, err)
	}
	return t, nil
}

// ParseSupportTable decodes a support table strictly.
func ParseSupportTable(data []byte) (*SupportTable, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var t SupportTable
	if err := dec.Decode(&t); err != nil {
		return nil, err
	}
	for i, e := range t.Components {
		if !strings.HasPrefix(e.PURL, "pkg:") {
			return nil, fmt.Errorf("components[%d]: purl %q is not a package URL", i, e.PURL)
		}
		switch e.SupportLevel {
		case "", SupportActive, SupportSecurityOnly, SupportNone:
		default:
			return nil, fmt.Errorf("components[%d] (%s): support_level %q is not one of %s, %s, %s", i, e.PURL, e.SupportLevel, SupportActive, SupportSecurityOnly, SupportNone)
		}
		if e.EndOfSupport != "" {
			if _, err := time.Parse(time.DateOnly, e.EndOfSupport); err != nil {
				return nil, fmt.Errorf("components[%d] (%s): end_of_support %q is not a date YYYY-MM-DD", i, e.PURL, e.EndOfSupport)
			}
		}
	}
	return &t, nil
}

// matches returns the entries matching purl, shortest pattern first.
func (t *SupportTable) matches(purl string) []SupportEntry {
	if t == nil {
		return nil
	}
	key := VersionlessPURL(purl)
	var out []SupportEntry
	for _, e := range t.Components {
		p, wild := strings.CutSuffix(e.PURL, "*")
		if wild && strings.HasPrefix(key, p) || !wild && key == e.PURL {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].PURL) < len(out[j].PURL) })
	return out
}

func (t *SupportTable) apply(c *Component) {
	for _, e := range t.matches(c.PURL) {
		if e.Supplier != "" {
			c.Supplier = e.Supplier
		}
		if e.SupportLevel != "" {
			c.SupportLevel = e.SupportLevel
		}
		if e.EndOfSupport != "" {
			c.EndOfSupport = e.EndOfSupport
		}
	}
}
