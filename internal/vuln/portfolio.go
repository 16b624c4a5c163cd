package vuln

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/sbom"
)

// Release is one released product version and its SBOM.
type Release struct {
	SBOM    string // file, relative to the products directory
	Product string // product package URL, with version
	Doc     *sbom.Document
}

// Portfolio is every release of every product, indexed by versionless
// package URL so that a vulnerability in a package maps to all releases
// that carry it at once.
type Portfolio struct {
	Releases []Release
	// index maps a versionless package URL to the distinct versioned
	// package URLs in the portfolio, and each of these to the releases
	// that contain it.
	index map[string]map[string][]int
	// unchecked lists the components that cannot be matched at all (no
	// package URL, no version, a package URL that does not parse), per
	// release: a watch that checked nothing must not look clean.
	unchecked []PortfolioUnchecked
}

// PortfolioUnchecked is a component of a release that the watch cannot
// match, and why.
type PortfolioUnchecked struct {
	SBOM      string `json:"sbom"`
	Product   string `json:"product"`
	Component string `json:"component"`
	Reason    string `json:"reason"`
}

// SBOMSuffixes are the file names LoadPortfolio reads.
var SBOMSuffixes = []string{".cdx.json", ".spdx.json"}

// LoadPortfolio reads every SBOM (files ending in .cdx.json or .spdx.json)
// below dir. A file that fails to read stops the load, naming it.
func LoadPortfolio(dir string) (*Portfolio, error) {
	var rels []Release
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || !hasSuffix(p, SBOMSuffixes) {
			return nil
		}
		doc, err := sbom.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rels = append(rels, Release{SBOM: filepath.ToSlash(rel), Product: doc.Product.PURL, Doc: doc})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load products %s: %w", dir, err)
	}
	return NewPortfolio(rels), nil
}

func hasSuffix(p string, sfx []string) bool {
	for _, s := range sfx {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}

// NewPortfolio indexes releases.
func NewPortfolio(rels []Release) *Portfolio {
	sort.Slice(rels, func(i, j int) bool { return rels[i].SBOM < rels[j].SBOM })
	p := &Portfolio{Releases: rels, index: map[string]map[string][]int{}}
	for i, r := range rels {
		for _, c := range r.Doc.Components {
			if why := uncheckable(c); why != "" {
				p.unchecked = append(p.unchecked, PortfolioUnchecked{r.SBOM, r.Product, c.Ref, why})
				continue
			}
			k := sbom.VersionlessPURL(c.PURL)
			m := p.index[k]
			if m == nil {
				m = map[string][]int{}
				p.index[k] = m
			}
			if l := m[c.PURL]; len(l) == 0 || l[len(l)-1] != i {
				m[c.PURL] = append(l, i)
			}
		}
	}
	return p
}

// uncheckable says why c cannot be matched against any feed, or "".
func uncheckable(c sbom.Component) string {
	if c.PURL == "" {
		return "no package URL"
	}
	_, _, version, err := keyOf(c.PURL)
	if err != nil {
		return err.Error()
	}
	if version == "" {
		return "package URL has no version"
	}
	return ""
}

// Unchecked returns the components that the watch cannot match, sorted
// by SBOM and component.
func (p *Portfolio) Unchecked() []PortfolioUnchecked {
	out := append([]PortfolioUnchecked(nil), p.unchecked...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].SBOM != out[j].SBOM {
			return out[i].SBOM < out[j].SBOM
		}
		return out[i].Component < out[j].Component
	})
	return out
}

// ReleasesWith returns the releases that contain any version of the
// package named by a versionless package URL, keyed by versioned URL.
func (p *Portfolio) ReleasesWith(versionless string) map[string][]Release {
	out := map[string][]Release{}
	for purl, idx := range p.index[versionless] {
		for _, i := range idx {
			out[purl] = append(out[purl], p.Releases[i])
		}
	}
	return out
}

// WatchFinding is one vulnerability in one release, with its triage.
type WatchFinding struct {
	SBOM    string  `json:"sbom"`
	Product string  `json:"product"`
	Finding Finding `json:"finding"`
	// Status is the triage status, or "untriaged".
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
	// Stale: the record changed after the decision; look again.
	Stale bool `json:"stale,omitempty"`
	// New: not reported by the previous run.
	New bool `json:"new"`
	// Proposal is a machine suggestion for a person to confirm, never a
	// decision (e.g. "not_affected: vulnerable_code_not_in_execute_path").
	Proposal string `json:"proposal,omitempty"`
}

// Untriaged is the status of a finding without a decision.
const Untriaged = "untriaged"

// Key identifies a finding across runs.
func (w WatchFinding) Key() string {
	return w.Product + "|" + w.Finding.Component + "|" + w.Finding.ID
}

// Suppressed reports whether the triage says the release is not affected
// (or fixed) and the decision is not stale.
func (w WatchFinding) Suppressed() bool {
	return !w.Stale && (w.Status == string(StatusNotAffected) || w.Status == string(StatusFixed))
}

// Watch matches the whole portfolio against db: each distinct component
// version is matched once and its findings go to every release that has
// it. triage may be nil; previous is the set of keys of the last run.
func (p *Portfolio) Watch(db *DB, triage *Triage, previous map[string]bool) ([]WatchFinding, error) {
	var out []WatchFinding
	keys := make([]string, 0, len(p.index))
	for k := range p.index {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for purl, idx := range p.index[k] {
			fs, err := db.Match(purl)
			if err != nil {
				continue // cannot happen: NewPortfolio left such components out and lists them in Unchecked
			}
			for _, f := range fs {
				for _, i := range idx {
					r := p.Releases[i]
					wf := WatchFinding{SBOM: r.SBOM, Product: r.Product, Finding: f, Status: Untriaged}
					if triage != nil {
						if st, stale := triage.Lookup(r.Product, f); st != nil {
							wf.Status, wf.Justification, wf.Stale = string(st.Status), string(st.Justification), stale
						}
					}
					wf.New = !previous[wf.Key()]
					out = append(out, wf)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}

// WatchState is what a watch run remembers for the next one.
type WatchState struct {
	Time time.Time `json:"time"`
	Seen []string  `json:"seen"` // keys of every finding reported
}

// LoadWatchState reads the state file; missing means a first run.
func LoadWatchState(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read watch state: %w", err)
	}
	var st WatchState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("read watch state %s: %w", path, err)
	}
	seen := make(map[string]bool, len(st.Seen))
	for _, k := range st.Seen {
		seen[k] = true
	}
	return seen, nil
}

// SaveWatchState records the findings of this run.
func SaveWatchState(path string, now time.Time, fs []WatchFinding) error {
	st := WatchState{Time: now.UTC(), Seen: make([]string, 0, len(fs))}
	for _, f := range fs {
		st.Seen = append(st.Seen, f.Key())
	}
	data, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}
