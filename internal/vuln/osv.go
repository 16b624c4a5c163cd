package vuln

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// MaxRecordSize bounds one OSV record read from the feed: the largest record
// of the Go database is far below it, and a feed is outside input.
const MaxRecordSize = 4 << 20

// Record is an OSV record (https://ossf.github.io/osv-schema/), the fields
// that matching and advisories use. Unknown fields are ignored, as the
// schema allows.
type Record struct {
	SchemaVersion string      `json:"schema_version,omitempty"`
	ID            string      `json:"id"`
	Modified      time.Time   `json:"modified"`
	Published     *time.Time  `json:"published,omitempty"`
	Withdrawn     *time.Time  `json:"withdrawn,omitempty"`
	Aliases       []string    `json:"aliases,omitempty"`
	Related       []string    `json:"related,omitempty"`
	Summary       string      `json:"summary,omitempty"`
	Details       string      `json:"details,omitempty"`
	Severity      []Severity  `json:"severity,omitempty"`
	Affected      []Affected  `json:"affected,omitempty"`
	References    []Reference `json:"references,omitempty"`
}

// Severity is a score of a record (CVSS vector or Ubuntu priority).
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Reference is a link of a record.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// Affected names one package and the versions of it that are affected.
type Affected struct {
	Package  Package  `json:"package"`
	Ranges   []Range  `json:"ranges,omitempty"`
	Versions []string `json:"versions,omitempty"`
	// EcosystemSpecific carries, for Go, the affected packages and symbols.
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
}

// Package identifies the affected package in its ecosystem.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// Range is one list of events over a version scheme.
type Range struct {
	Type   string  `json:"type"` // SEMVER, ECOSYSTEM or GIT
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one point of a range: exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// ParseRecord decodes and checks one OSV record. name (a file name) is used
// in errors.
func ParseRecord(name string, data []byte) (*Record, error) {
	if len(data) > MaxRecordSize {
		return nil, fmt.Errorf("osv record %s: %d bytes exceeds the limit of %d", name, len(data), MaxRecordSize)
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("osv record %s: %w", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("osv record %s: data after the JSON object", name)
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("osv record %s: %w", name, err)
	}
	return &r, nil
}

// check enforces the schema rules matching relies on.
func (r *Record) check() error {
	if r.ID == "" {
		return fmt.Errorf("missing id")
	}
	for i, a := range r.Affected {
		if a.Package.Ecosystem == "" && a.Package.PURL == "" && len(a.Ranges) > 0 {
			if a.Ranges[0].Type != "GIT" {
				return fmt.Errorf("affected[%d]: package has no ecosystem", i)
			}
		}
		for j, rg := range a.Ranges {
			switch rg.Type {
			case "SEMVER", "ECOSYSTEM", "GIT":
			default:
				return fmt.Errorf("affected[%d].ranges[%d]: unknown type %q", i, j, rg.Type)
			}
			if len(rg.Events) == 0 {
				return fmt.Errorf("affected[%d].ranges[%d]: no events", i, j)
			}
			for k, e := range rg.Events {
				if n := e.count(); n != 1 {
					return fmt.Errorf("affected[%d].ranges[%d].events[%d]: %d kinds set, want exactly one", i, j, k, n)
				}
			}
		}
	}
	return nil
}

func (e Event) count() int {
	n := 0
	for _, s := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
		if s != "" {
			n++
		}
	}
	return n
}

// IDs returns the record's id and aliases.
func (r *Record) IDs() []string {
	return append([]string{r.ID}, r.Aliases...)
}
