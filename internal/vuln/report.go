package vuln

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteTable writes results as an aligned text table, one line per
// finding, and a line per unchecked component.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SBOM\tCOMPONENT\tVULNERABILITY\tALIASES\tFIXED IN")
	n := 0
	for _, r := range results {
		for _, f := range r.Findings {
			fixed := f.Fixed
			if fixed == "" {
				fixed = "(no fix)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.SBOM, f.Component, f.ID, strings.Join(f.Aliases, ","), fixed)
			n++
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		for _, u := range r.Unchecked {
			fmt.Fprintf(w, "unchecked: %s: %s: %s\n", r.SBOM, u.Component, u.Reason)
		}
	}
	_, err := fmt.Fprintf(w, "%d finding(s) in %d SBOM(s)\n", n, len(results))
	return err
}

// WriteJSON writes results as JSON.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Results []Result `json:"results"`
	}{results})
}

// SARIF 2.1.0, the part code-scanning tools read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
	HelpURI          string       `json:"helpUri,omitempty"`
	Properties       struct {
		Aliases []string `json:"aliases,omitempty"`
	} `json:"properties"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
	} `json:"physicalLocation"`
	LogicalLocations []struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	} `json:"logicalLocations"`
}

// WriteSARIF writes results as SARIF 2.1.0: one rule per vulnerability,
// one result per finding, located at the SBOM file and the component's
// package URL.
func WriteSARIF(w io.Writer, results []Result) error {
	rules := map[string]sarifRule{}
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "medguard vuln scan", InformationURI: "https://osv.dev"}}, Results: []sarifResult{}}
	for _, r := range results {
		for _, f := range r.Findings {
			if _, ok := rules[f.ID]; !ok {
				rule := sarifRule{ID: f.ID, ShortDescription: sarifMessage{Text: nonEmpty(f.Summary, f.ID)}, HelpURI: "https://osv.dev/vulnerability/" + f.ID}
				rule.Properties.Aliases = f.Aliases
				rules[f.ID] = rule
			}
			msg := fmt.Sprintf("%s is affected by %s", f.Component, f.ID)
			if f.Fixed != "" {
				msg += "; fixed in " + f.Fixed
			}
			var loc sarifLocation
			loc.PhysicalLocation.ArtifactLocation.URI = r.SBOM
			loc.LogicalLocations = append(loc.LogicalLocations, struct {
				FullyQualifiedName string `json:"fullyQualifiedName"`
				Kind               string `json:"kind"`
			}{f.Component, "package"})
			run.Results = append(run.Results, sarifResult{RuleID: f.ID, Level: "error", Message: sarifMessage{msg}, Locations: []sarifLocation{loc}})
		}
	}
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	run.Tool.Driver.Rules = []sarifRule{}
	for _, id := range ids {
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rules[id])
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

func nonEmpty(s, alt string) string {
	if s != "" {
		return s
	}
	return alt
}
