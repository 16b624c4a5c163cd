package mds2

import (
	"fmt"
	"strings"
)

// Sources of an answer.
const (
	SourceConfig  = "config"
	SourceFeature = "feature"
	SourceSBOM    = "sbom"
	SourceDoc     = "document" // facts of this statement (id, date)
	SourcePerson  = "person"   // needs a person
)

// NeedsPerson is the value of a question the build cannot answer.
const NeedsPerson = "needs a person"

// Answer is the filled-in answer to one question.
type Answer struct {
	Question
	Value    string     `json:"value"`
	Note     string     `json:"note,omitempty"`
	Source   string     `json:"source"`
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Form is the filled MDS2.
type Form struct {
	Version      string    `json:"version"`
	DocumentID   string    `json:"document_id"`
	Generated    string    `json:"generated"`
	ConfigSource string    `json:"config_source"`
	SBOM         string    `json:"sbom,omitempty"`
	Sections     []Section `json:"sections"`
	Answers      []Answer  `json:"answers"`
	Answered     int       `json:"answered"`
	ForPerson    int       `json:"for_person"`
}

// Fill answers every question of c from f by the Rules.
func Fill(c *Catalogue, f *Facts) (*Form, error) {
	byID := map[string]Rule{}
	for _, r := range Rules {
		if _, ok := c.Question(r.ID); !ok {
			return nil, fmt.Errorf("mds2: rule for unknown question %s", r.ID)
		}
		if _, dup := byID[r.ID]; dup {
			return nil, fmt.Errorf("mds2: two rules for %s", r.ID)
		}
		byID[r.ID] = r
	}
	form := &Form{Version: c.Version, DocumentID: f.DocumentID, Generated: f.Now.UTC().Format("2006-01-02T15:04:05Z"), ConfigSource: f.ConfigSource, SBOM: f.SBOMFile, Sections: c.Sections}
	for _, q := range c.Questions {
		a := Answer{Question: q, Value: NeedsPerson, Source: SourcePerson}
		if r, ok := byID[q.ID]; ok {
			e := &evidence{f: f}
			v, note := r.answer(e)
			switch {
			case len(e.missing) > 0:
				a.Note = "no evidence in this build: " + strings.Join(e.missing, ", ")
			case v == "":
				a.Note = "no value"
			default:
				a.Value, a.Note, a.Evidence, a.Source = v, note, e.list, sourceOf(e.list)
			}
		}
		if a.Source == SourcePerson {
			form.ForPerson++
		} else {
			form.Answered++
		}
		form.Answers = append(form.Answers, a)
	}
	return form, nil
}

// sourceOf names the strongest kind of evidence: configuration, then SBOM,
// then feature.
func sourceOf(ev []Evidence) string {
	src := SourceFeature
	for _, e := range ev {
		switch e.Kind {
		case "config":
			return SourceConfig
		case "sbom":
			src = SourceSBOM
		}
	}
	if len(ev) == 0 {
		return SourceDoc
	}
	return src
}
