package advisory

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/medguard/medguard/internal/sbom"
	"github.com/medguard/medguard/internal/vuln"
	"github.com/openvex/go-vex/pkg/vex"
)

// OpenVEX writes the findings as an OpenVEX document by author: one
// statement per finding and release, with the triage status (untriaged or
// stale decisions are "under_investigation").
func OpenVEX(author, id string, now time.Time, fs []vuln.WatchFinding) ([]byte, error) {
	doc := vex.VEX{Metadata: vex.Metadata{
		Context: vex.ContextLocator(), ID: id, Author: author, Timestamp: &now, Version: 1, Tooling: "medguard",
	}, Statements: []vex.Statement{}}
	for _, f := range fs {
		st := vex.Statement{
			Vulnerability: vex.Vulnerability{Name: vex.VulnerabilityID(f.Finding.ID), Description: f.Finding.Summary},
			Timestamp:     &now,
			Products: []vex.Product{{
				Component:     vex.Component{ID: f.Product, Identifiers: map[vex.IdentifierType]string{vex.PURL: f.Product}},
				Subcomponents: []vex.Subcomponent{{Component: vex.Component{ID: f.Finding.Component, Identifiers: map[vex.IdentifierType]string{vex.PURL: f.Finding.Component}}}},
			}},
			Status: vex.Status(statusOf(f)),
		}
		for _, a := range f.Finding.Aliases {
			st.Vulnerability.Aliases = append(st.Vulnerability.Aliases, vex.VulnerabilityID(a))
		}
		switch st.Status {
		case vex.StatusNotAffected:
			st.Justification = vex.Justification(f.Justification)
		case vex.StatusAffected:
			st.ActionStatement = actionText(f)
		}
		if err := st.Validate(); err != nil {
			return nil, fmt.Errorf("openvex %s in %s: %w", f.Finding.ID, f.Product, err)
		}
		doc.Statements = append(doc.Statements, st)
	}
	var b bytes.Buffer
	if err := doc.ToJSON(&b); err != nil {
		return nil, fmt.Errorf("write openvex: %w", err)
	}
	return b.Bytes(), nil
}

func actionText(f vuln.WatchFinding) string {
	if f.Finding.Fixed != "" {
		return fmt.Sprintf("Install a release that contains %s %s or later.", sbom.VersionlessPURL(f.Finding.Component), f.Finding.Fixed)
	}
	return "No fix is available yet; follow the compensating controls in the security guidance."
}

// cdxJustification maps OpenVEX/CSAF justifications to CycloneDX's.
var cdxJustification = map[string]cdx.ImpactAnalysisJustification{
	"component_not_present":                             cdx.IAJCodeNotPresent,
	"vulnerable_code_not_present":                       cdx.IAJCodeNotPresent,
	"vulnerable_code_not_in_execute_path":               cdx.IAJCodeNotReachable,
	"vulnerable_code_cannot_be_controlled_by_adversary": cdx.IAJRequiresEnvironment,
	"inline_mitigations_already_exist":                  cdx.IAJProtectedByMitigatingControl,
}

var cdxState = map[string]cdx.ImpactAnalysisState{
	"affected":            cdx.IASExploitable,
	"not_affected":        cdx.IASNotAffected,
	"fixed":               cdx.IASResolved,
	"under_investigation": cdx.IASInTriage,
}

// CycloneDXVEX writes the findings of one release as a CycloneDX 1.6 VEX
// document: the release as metadata component, the affected components,
// and one vulnerability per finding with its analysis.
func CycloneDXVEX(release *sbom.Document, now time.Time, fs []vuln.WatchFinding) ([]byte, error) {
	bom := cdx.NewBOM()
	bom.SpecVersion = sbom.CycloneDXSpec
	prod := cdx.Component{BOMRef: release.Product.Ref, Type: cdx.ComponentTypeApplication, Name: release.Product.Name, Version: release.Product.Version, PackageURL: release.Product.PURL}
	bom.Metadata = &cdx.Metadata{Timestamp: now.UTC().Format(time.RFC3339), Component: &prod}
	comps := map[string]cdx.Component{}
	var vulns []cdx.Vulnerability
	for _, f := range fs {
		if f.Product != release.Product.PURL {
			continue
		}
		ref := f.Finding.Component
		if _, ok := comps[ref]; !ok {
			c, found := release.Component(ref)
			name, version := c.Name, c.Version
			if !found {
				name, version = ref, f.Finding.Version
			}
			comps[ref] = cdx.Component{BOMRef: ref, Type: cdx.ComponentTypeLibrary, Name: name, Version: version, PackageURL: ref}
		}
		st := statusOf(f)
		v := cdx.Vulnerability{
			BOMRef:      f.Finding.ID + "/" + ref,
			ID:          f.Finding.ID,
			Source:      &cdx.Source{Name: source(f.Finding.ID), URL: "https://osv.dev/vulnerability/" + f.Finding.ID},
			Description: f.Finding.Summary,
			Analysis:    &cdx.VulnerabilityAnalysis{State: cdxState[st]},
			Affects:     &[]cdx.Affects{{Ref: ref}},
		}
		if len(f.Finding.Aliases) > 0 {
			var refs []cdx.VulnerabilityReference
			for _, a := range f.Finding.Aliases {
				refs = append(refs, cdx.VulnerabilityReference{ID: a, Source: &cdx.Source{Name: source(a)}})
			}
			v.References = &refs
		}
		if st == "not_affected" {
			v.Analysis.Justification = cdxJustification[f.Justification]
			v.Analysis.Detail = "Not affected: " + strings.ReplaceAll(f.Justification, "_", " ") + "."
		}
		if st == "affected" {
			v.Recommendation = actionText(f)
		}
		vulns = append(vulns, v)
	}
	list := make([]cdx.Component, 0, len(comps))
	for _, k := range sortedKeys(comps) {
		list = append(list, comps[k])
	}
	sort.Slice(vulns, func(i, j int) bool { return vulns[i].BOMRef < vulns[j].BOMRef })
	bom.Components = &list
	bom.Vulnerabilities = &vulns
	var b bytes.Buffer
	enc := cdx.NewBOMEncoder(&b, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false) // package URLs carry '&' between qualifiers
	if err := enc.EncodeVersion(bom, sbom.CycloneDXSpec); err != nil {
		return nil, fmt.Errorf("write cyclonedx vex: %w", err)
	}
	return b.Bytes(), nil
}

func source(id string) string {
	switch {
	case strings.HasPrefix(id, "GO-"):
		return "Go Vulnerability Database"
	case strings.HasPrefix(id, "CVE-"):
		return "NVD"
	case strings.HasPrefix(id, "GHSA-"):
		return "GitHub"
	}
	return "OSV"
}
