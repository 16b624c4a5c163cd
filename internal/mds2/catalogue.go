// Package mds2 fills the Manufacturer Disclosure Statement for Medical
// Device Security (MDS2, ANSI/NEMA HN 1-2019) from what the device's
// configuration and build can prove, and marks the rest for a person.
//
// The model: the form is versioned data (the Catalogue: 23 sections, 240
// questions keyed by their official ids, worded in medguard's own words).
// A Rule answers one question from Facts: a key of the device
// configuration (internal/config), a feature of the build (a medguard part
// with its package and document), or the release SBOM; each answer carries
// that evidence beside it. A question without a rule, or whose evidence is
// missing, is answered "needs a person": the form never guesses.
// Fill produces the Form, written as JSON, CSV or a self-contained HTML
// page.
package mds2

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
)

// Version names the edition of the form the catalogue follows.
const Version = "ANSI/NEMA HN 1-2019"

//go:embed sections.tsv
var sectionsTSV []byte

//go:embed questions.tsv
var questionsTSV []byte

// Section is one of the form's sections.
type Section struct {
	ID    string `json:"id"` // official, e.g. "AUDT"
	Title string `json:"title"`
}

// Question is one question of the form.
type Question struct {
	ID      string `json:"id"` // official, e.g. "AUDT-2.8.1"
	Section string `json:"section"`
	Parent  string `json:"parent,omitempty"`
	Text    string `json:"text"` // in medguard's words
}

// Catalogue is the whole form.
type Catalogue struct {
	Version   string
	Sections  []Section
	Questions []Question
}

// LoadCatalogue parses the embedded catalogue.
func LoadCatalogue() (*Catalogue, error) {
	return parseCatalogue(sectionsTSV, questionsTSV)
}

func parseCatalogue(secs, qs []byte) (*Catalogue, error) {
	c := &Catalogue{Version: Version}
	known := map[string]bool{}
	err := eachRow(secs, 2, func(line int, f []string) error {
		c.Sections = append(c.Sections, Section{ID: f[0], Title: f[1]})
		known[f[0]] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mds2 sections: %w", err)
	}
	ids := map[string]bool{}
	err = eachRow(qs, 3, func(line int, f []string) error {
		sec, _, ok := strings.Cut(f[0], "-")
		if !ok || !known[sec] {
			return fmt.Errorf("line %d: question %q is in no known section", line, f[0])
		}
		if ids[f[0]] {
			return fmt.Errorf("line %d: question %q twice", line, f[0])
		}
		if f[1] != "" && !ids[f[1]] {
			return fmt.Errorf("line %d: question %q: parent %q not defined before it", line, f[0], f[1])
		}
		if f[2] == "" {
			return fmt.Errorf("line %d: question %q has no text", line, f[0])
		}
		ids[f[0]] = true
		c.Questions = append(c.Questions, Question{ID: f[0], Section: sec, Parent: f[1], Text: f[2]})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mds2 questions: %w", err)
	}
	return c, nil
}

// eachRow calls fn with the tab-separated fields of each line that is not
// blank or a comment.
func eachRow(data []byte, n int, fn func(line int, f []string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != n {
			return fmt.Errorf("line %d: %d fields, want %d", line, len(f), n)
		}
		if err := fn(line, f); err != nil {
			return err
		}
	}
	return sc.Err()
}

// Question returns the question with id.
func (c *Catalogue) Question(id string) (Question, bool) {
	for _, q := range c.Questions {
		if q.ID == id {
			return q, true
		}
	}
	return Question{}, false
}
