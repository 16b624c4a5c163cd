package vuln

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/medguard/medguard/internal/sbom"
	"github.com/openvex/go-vex/pkg/vex"
)

// Triage statuses (OpenVEX, and the four that the issue names).
const (
	StatusAffected           = vex.StatusAffected
	StatusNotAffected        = vex.StatusNotAffected
	StatusFixed              = vex.StatusFixed
	StatusUnderInvestigation = vex.StatusUnderInvestigation
)

// MaxTriageSize bounds the triage file.
const MaxTriageSize = 64 << 20

// Decision is one person's triage of one vulnerability in one component of
// one product release.
type Decision struct {
	Vulnerability string     // the finding's id
	Aliases       []string   // its other ids
	Product       string     // the release's product package URL, with version
	Component     string     // the component's package URL, with version
	Status        vex.Status // affected, not_affected, fixed, under_investigation
	Justification vex.Justification
	Impact        string // why not affected (free text)
	Action        string // what to do, for affected
	Author        string
	Time          time.Time
}

// Triage is the maker's triage record: an OpenVEX document whose
// statements are the decisions. Methods are not safe for concurrent use.
type Triage struct{ doc vex.VEX }

// NewTriage returns an empty triage record by author.
func NewTriage(author string, now time.Time) *Triage {
	return &Triage{doc: vex.VEX{Metadata: vex.Metadata{
		Context: vex.ContextLocator(), ID: "urn:medguard:triage", Author: author,
		Timestamp: &now, Version: 1, Tooling: "medguard",
	}, Statements: []vex.Statement{}}}
}

// LoadTriage reads a triage file; a missing file is an empty record.
func LoadTriage(path, author string, now time.Time) (*Triage, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return NewTriage(author, now), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read triage: %w", err)
	}
	return ParseTriage(path, data, author, now)
}

// ParseTriage decodes a triage file's content (name is used in errors):
// an OpenVEX document whose every statement passes OpenVEX's rules.
func ParseTriage(name string, data []byte, author string, now time.Time) (*Triage, error) {
	if len(data) > MaxTriageSize {
		return nil, fmt.Errorf("read triage %s: larger than %d bytes", name, MaxTriageSize)
	}
	var doc vex.VEX
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read triage %s: %w", name, err)
	}
	for i := range doc.Statements {
		if err := doc.Statements[i].Validate(); err != nil {
			return nil, fmt.Errorf("read triage %s: statement %d: %w", name, i, err)
		}
	}
	if doc.Author == "" {
		doc.Author = author
	}
	if doc.Timestamp == nil {
		doc.Timestamp = &now
	}
	return &Triage{doc: doc}, nil
}

// Save writes the triage record atomically (temporary file, then rename).
func (t *Triage) Save(path string) error {
	var b bytes.Buffer
	if err := t.doc.ToJSON(&b); err != nil {
		return fmt.Errorf("write triage: %w", err)
	}
	return writeAtomic(path, b.Bytes())
}

// VEX returns the OpenVEX document (shared; do not modify).
func (t *Triage) VEX() *vex.VEX { return &t.doc }

// Add records d. OpenVEX's rules apply: not_affected needs a justification
// or an impact statement, affected an action statement.
func (t *Triage) Add(d Decision) error {
	if d.Vulnerability == "" || d.Product == "" || d.Component == "" {
		return errors.New("triage: vulnerability, product and component are required")
	}
	ts := d.Time.UTC()
	st := vex.Statement{
		Vulnerability:   vex.Vulnerability{Name: vex.VulnerabilityID(d.Vulnerability)},
		Timestamp:       &ts,
		Products:        []vex.Product{{Component: vex.Component{ID: d.Product}, Subcomponents: []vex.Subcomponent{{Component: vex.Component{ID: d.Component}}}}},
		Status:          d.Status,
		Justification:   d.Justification,
		ImpactStatement: d.Impact,
		ActionStatement: d.Action,
	}
	for _, a := range d.Aliases {
		st.Vulnerability.Aliases = append(st.Vulnerability.Aliases, vex.VulnerabilityID(a))
	}
	if err := st.Validate(); err != nil {
		return fmt.Errorf("triage %s in %s: %w", d.Vulnerability, d.Component, err)
	}
	t.doc.Statements = append(t.doc.Statements, st)
	t.doc.Version++
	t.doc.LastUpdated = &ts
	if d.Author != "" {
		t.doc.Author = d.Author
	}
	return nil
}

// Lookup finds the latest decision that applies to finding f in the
// release whose product package URL is product. A decision applies when it
// names one of the finding's ids, the same product (any release: decisions
// are carried forward) and exactly the same component version: when the
// component changes, the decision no longer holds. stale reports that the
// vulnerability record was modified after the decision, which asks for a
// new look.
func (t *Triage) Lookup(product string, f Finding) (st *vex.Statement, stale bool) {
	ids := append([]string{f.ID}, f.Aliases...)
	prod := sbom.VersionlessPURL(product)
	for i := range t.doc.Statements {
		s := &t.doc.Statements[i]
		if !namesAny(s.Vulnerability, ids) || !appliesTo(s, prod, f.Component) {
			continue
		}
		if st == nil || s.Timestamp != nil && st.Timestamp != nil && !s.Timestamp.Before(*st.Timestamp) {
			st = s
		}
	}
	if st != nil && st.Timestamp != nil && f.Modified.After(*st.Timestamp) {
		stale = true
	}
	return st, stale
}

func namesAny(v vex.Vulnerability, ids []string) bool {
	for _, id := range ids {
		if v.Matches(id) {
			return true
		}
	}
	return false
}

func appliesTo(s *vex.Statement, product, component string) bool {
	for _, p := range s.Products {
		if sbom.VersionlessPURL(p.ID) != product {
			continue
		}
		for _, sc := range p.Subcomponents {
			if sc.ID == component {
				return true
			}
		}
	}
	return false
}

// writeAtomic writes data to path through a temporary file in the same
// directory, so that a crash leaves the old or the new file, never half.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
