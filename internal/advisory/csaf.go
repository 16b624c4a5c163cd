package advisory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gocsaf/csaf/v3/csaf"
	"github.com/medguard/medguard/internal/sbom"
	"github.com/medguard/medguard/internal/vuln"
)

// Profiles of CSAF 2.0 that medguard writes.
const (
	ProfileSecurityAdvisory = "csaf_security_advisory"
	ProfileVEX              = "csaf_vex"
)

// Publisher is the organisation that issues the advisory.
type Publisher struct {
	Name           string // "Example Medical Devices GmbH"
	Namespace      string // https URL of the publisher, e.g. "https://example.com"
	ContactDetails string // how to reach the PSIRT
}

// Options describe one CSAF document.
type Options struct {
	Profile    string // ProfileSecurityAdvisory or ProfileVEX
	TrackingID string // e.g. "EMD-SA-2026-0001"; unique per publisher
	Title      string
	Publisher  Publisher
	Version    int       // document version (revision number), from 1
	Status     string    // "final", "interim" or "draft"; default final
	Now        time.Time // current release date of this version
	Initial    time.Time // initial release date; default Now
	// Summary is the advisory's summary note.
	Summary string
	// Findings are the triaged findings to publish (vuln.Portfolio.Watch).
	Findings []vuln.WatchFinding
	// Records gives the OSV record of an id, for notes and references
	// (nil: none).
	Records func(id string) (*vuln.Record, bool)
}

// productID is the CSAF product id of a release.
type productRef struct {
	id, name, version, vendor, purl string
}

// Build makes a CSAF 2.0 document from triaged findings and returns it as
// JSON, after it has passed Validate.
func Build(o Options) ([]byte, error) {
	if o.Profile != ProfileSecurityAdvisory && o.Profile != ProfileVEX {
		return nil, fmt.Errorf("build csaf: profile %q is not %s or %s", o.Profile, ProfileSecurityAdvisory, ProfileVEX)
	}
	if o.TrackingID == "" || o.Title == "" || o.Publisher.Name == "" || !strings.HasPrefix(o.Publisher.Namespace, "https://") {
		return nil, errors.New("build csaf: tracking id, title, publisher name and https namespace are required")
	}
	if len(o.Findings) == 0 {
		return nil, errors.New("build csaf: no findings to publish")
	}
	if o.Version < 1 {
		o.Version = 1
	}
	if o.Status == "" {
		o.Status = "final"
	}
	if o.Initial.IsZero() {
		o.Initial = o.Now
	}
	adv := &csaf.Advisory{Document: document(o)}
	products := productsOf(o.Findings)
	adv.ProductTree = productTree(products)
	adv.Vulnerabilities = vulnerabilities(o, products)
	data, err := json.MarshalIndent(adv, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("build csaf: %w", err)
	}
	if err := Validate(data); err != nil {
		return nil, fmt.Errorf("build csaf: %w", err)
	}
	return data, nil
}

func ptr[T any](v T) *T { return &v }

func document(o Options) *csaf.Document {
	cat := csaf.DocumentCategory(o.Profile)
	ver := csaf.CSAFVersion20
	pubCat := csaf.CSAFCategoryVendor
	status := csaf.TrackingStatus(o.Status)
	rev := csaf.RevisionNumber(fmt.Sprint(o.Version))
	now := o.Now.UTC().Format(time.RFC3339)
	tid := csaf.TrackingID(o.TrackingID)
	lang := csaf.Lang("en")
	tlp := csaf.TLPLabel(csaf.TLPLabelWhite)
	var history csaf.Revisions
	for v := 1; v <= o.Version; v++ {
		date := now
		summary := "Current version."
		if v < o.Version {
			date = o.Initial.UTC().Format(time.RFC3339)
			summary = "Earlier version."
		}
		if v == 1 {
			date = o.Initial.UTC().Format(time.RFC3339)
			if o.Version == 1 {
				summary = "Initial version."
			}
		}
		history = append(history, &csaf.Revision{Date: ptr(date), Number: ptr(csaf.RevisionNumber(fmt.Sprint(v))), Summary: ptr(summary)})
	}
	d := &csaf.Document{
		Category:     &cat,
		CSAFVersion:  &ver,
		Lang:         &lang,
		Distribution: &csaf.DocumentDistribution{TLP: &csaf.TLP{DocumentTLPLabel: &tlp}},
		Publisher: &csaf.DocumentPublisher{
			Category: &pubCat, Name: ptr(o.Publisher.Name), Namespace: ptr(o.Publisher.Namespace),
		},
		Title: ptr(o.Title),
		Tracking: &csaf.Tracking{
			ID: &tid, CurrentReleaseDate: ptr(now), InitialReleaseDate: ptr(o.Initial.UTC().Format(time.RFC3339)),
			RevisionHistory: history, Status: &status, Version: &rev,
			Generator: &csaf.Generator{Engine: &csaf.Engine{Name: ptr("medguard")}, Date: ptr(now)},
		},
	}
	if o.Publisher.ContactDetails != "" {
		d.Publisher.ContactDetails = ptr(o.Publisher.ContactDetails)
	}
	if o.Summary != "" {
		d.Notes = csaf.Notes{{NoteCategory: ptr(csaf.CSAFNoteCategorySummary), Text: ptr(o.Summary), Title: ptr("Summary")}}
	}
	return d
}

// productsOf gives each release (product package URL) a product id.
func productsOf(fs []vuln.WatchFinding) map[string]productRef {
	var purls []string
	seen := map[string]bool{}
	for _, f := range fs {
		if !seen[f.Product] {
			seen[f.Product] = true
			purls = append(purls, f.Product)
		}
	}
	sort.Strings(purls)
	out := map[string]productRef{}
	for i, p := range purls {
		name, version, vendor := splitPURL(p)
		out[p] = productRef{id: fmt.Sprintf("CSAFPID-%04d", i+1), name: name, version: version, vendor: vendor, purl: p}
	}
	return out
}

// splitPURL reads name, version and namespace (the vendor, for generic
// product URLs) from a package URL without failing: a product URL that
// does not parse is shown as it is.
func splitPURL(p string) (name, version, vendor string) {
	base, _, _ := strings.Cut(p, "?")
	if i := strings.LastIndexByte(base, '@'); i > 0 {
		version = base[i+1:]
		base = base[:i]
	}
	parts := strings.Split(strings.TrimPrefix(base, "pkg:"), "/")
	name = parts[len(parts)-1]
	if len(parts) >= 3 {
		vendor = parts[len(parts)-2]
	}
	if version == "" {
		version = "unknown"
	}
	if vendor == "" {
		vendor = "unknown"
	}
	return name, version, vendor
}

// productTree: vendor → product name → product version, the leaf carrying
// the release's package URL.
func productTree(products map[string]productRef) *csaf.ProductTree {
	byVendor := map[string]map[string][]productRef{}
	for _, p := range products {
		if byVendor[p.vendor] == nil {
			byVendor[p.vendor] = map[string][]productRef{}
		}
		byVendor[p.vendor][p.name] = append(byVendor[p.vendor][p.name], p)
	}
	var tree csaf.Branches
	for _, vendor := range sortedKeys(byVendor) {
		vb := &csaf.Branch{Category: ptr(csaf.CSAFBranchCategoryVendor), Name: ptr(vendor)}
		for _, name := range sortedKeys(byVendor[vendor]) {
			nb := &csaf.Branch{Category: ptr(csaf.CSAFBranchCategoryProductName), Name: ptr(name)}
			rs := byVendor[vendor][name]
			sort.Slice(rs, func(i, j int) bool { return rs[i].id < rs[j].id })
			for _, r := range rs {
				purl := csaf.PURL(r.purl)
				nb.Branches = append(nb.Branches, &csaf.Branch{
					Category: ptr(csaf.CSAFBranchCategoryProductVersion), Name: ptr(r.version),
					Product: &csaf.FullProductName{
						Name: ptr(vendor + " " + name + " " + r.version), ProductID: ptr(csaf.ProductID(r.id)),
						ProductIdentificationHelper: &csaf.ProductIdentificationHelper{PURL: &purl},
					},
				})
			}
			vb.Branches = append(vb.Branches, nb)
		}
		tree = append(tree, vb)
	}
	return &csaf.ProductTree{Branches: tree}
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// vulnerabilities groups the findings by vulnerability id.
func vulnerabilities(o Options, products map[string]productRef) csaf.Vulnerabilities {
	byID := map[string][]vuln.WatchFinding{}
	for _, f := range o.Findings {
		byID[f.Finding.ID] = append(byID[f.Finding.ID], f)
	}
	var out csaf.Vulnerabilities
	for _, id := range sortedKeys(byID) {
		out = append(out, vulnerability(o, id, byID[id], products))
	}
	return out
}

func vulnerability(o Options, id string, fs []vuln.WatchFinding, products map[string]productRef) *csaf.Vulnerability {
	f0 := fs[0].Finding
	v := &csaf.Vulnerability{ProductStatus: &csaf.ProductStatus{}}
	ids := append([]string{f0.ID}, f0.Aliases...)
	for _, a := range ids {
		if strings.HasPrefix(a, "CVE-") && v.CVE == nil {
			v.CVE = ptr(csaf.CVE(a))
			continue
		}
		v.IDs = append(v.IDs, &csaf.VulnerabilityID{SystemName: ptr(idSystem(a)), Text: ptr(a)})
	}
	summary := f0.Summary
	details := ""
	if o.Records != nil {
		if r, ok := o.Records(f0.Records[0]); ok {
			details = r.Details
			for _, ref := range r.References {
				if strings.HasPrefix(ref.URL, "https://") && len(v.References) < 10 {
					v.References = append(v.References, &csaf.Reference{Summary: ptr(strings.ToLower(ref.Type) + " reference"), URL: ptr(ref.URL), ReferenceCategory: ptr(string(csaf.CSAFReferenceCategoryExternal))})
				}
			}
		}
	}
	if summary == "" {
		summary = id
	}
	v.Title = ptr(summary)
	text := summary
	if details != "" {
		text = details
	}
	v.Notes = csaf.Notes{{NoteCategory: ptr(csaf.CSAFNoteCategoryDescription), Text: ptr(text), Title: ptr("Vulnerability description")}}
	status := v.ProductStatus
	byRelease := map[string][]vuln.WatchFinding{}
	for _, f := range fs {
		byRelease[f.Product] = append(byRelease[f.Product], f)
	}
	for _, rel := range sortedKeys(byRelease) {
		p := ptr(csaf.ProductID(products[rel].id))
		rs := byRelease[rel]
		switch releaseStatus(rs) {
		case "not_affected":
			// Every component carrying the vulnerability is not affected:
			// the flag is that of the first; the threat names them all.
			status.KnownNotAffected = appendProducts(status.KnownNotAffected, p)
			v.Flags = append(v.Flags, &csaf.Flag{Label: ptr(flagLabel(rs[0].Justification)), ProductIds: &csaf.Products{p}})
			var why []string
			for _, f := range rs {
				why = append(why, strings.ReplaceAll(f.Justification, "_", " ")+" ("+f.Finding.Component+")")
			}
			v.Threats = append(v.Threats, &csaf.Threat{Category: ptr(csaf.CSAFThreatCategoryImpact), Details: ptr("Not affected: " + strings.Join(why, "; ") + "."), ProductIds: &csaf.Products{p}})
		case "fixed":
			status.Fixed = appendProducts(status.Fixed, p)
		case "affected":
			status.KnownAffected = appendProducts(status.KnownAffected, p)
			for _, f := range rs {
				if statusOf(f) == "affected" {
					v.Remediations = append(v.Remediations, remediation(f, p))
				}
			}
		default:
			status.UnderInvestigation = appendProducts(status.UnderInvestigation, p)
		}
	}
	return v
}

// statusRank orders statuses from the most to the least urgent for the
// hospital: a release is only as safe as its worst component.
var statusRank = map[string]int{"affected": 4, "under_investigation": 3, "fixed": 2, "not_affected": 1}

// releaseStatus is the status of a release for one vulnerability found in
// several of its components (GO-2022-0969 is in both the standard library
// and golang.org/x/net): the most urgent of theirs. A "not affected"
// decision about one component must never hide another that is affected
// or not yet triaged.
func releaseStatus(fs []vuln.WatchFinding) string {
	best := ""
	for _, f := range fs {
		if st := statusOf(f); statusRank[st] > statusRank[best] {
			best = st
		}
	}
	return best
}

// statusOf is the status a finding is published with: a stale decision or
// none at all is "under investigation", never silence.
func statusOf(f vuln.WatchFinding) string {
	if f.Stale || f.Status == vuln.Untriaged {
		return "under_investigation"
	}
	return f.Status
}

func remediation(f vuln.WatchFinding, p *csaf.ProductID) *csaf.Remediation {
	if f.Finding.Fixed != "" {
		return &csaf.Remediation{Category: ptr(csaf.CSAFRemediationCategoryVendorFix), Details: ptr(fmt.Sprintf("Install a release that contains %s %s or later.", sbom.VersionlessPURL(f.Finding.Component), f.Finding.Fixed)), ProductIds: &csaf.Products{p}}
	}
	return &csaf.Remediation{Category: ptr(csaf.CSAFRemediationCategoryNoneAvailable), Details: ptr("No fix is available yet; follow the compensating controls in the security guidance."), ProductIds: &csaf.Products{p}}
}

func appendProducts(ps *csaf.Products, p *csaf.ProductID) *csaf.Products {
	if ps == nil {
		ps = &csaf.Products{}
	}
	*ps = append(*ps, p)
	return ps
}

// flagLabel maps an OpenVEX justification to the CSAF flag of the same
// name (they are the same five).
func flagLabel(j string) csaf.FlagLabel {
	switch j {
	case "component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
		"vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist":
		return csaf.FlagLabel(j)
	}
	return csaf.CSAFFlagLabelVulnerableCodeNotPresent
}

func idSystem(id string) string {
	switch {
	case strings.HasPrefix(id, "GO-"):
		return "Go Vulnerability Database"
	case strings.HasPrefix(id, "GHSA-"):
		return "GitHub Security Advisories"
	case strings.HasPrefix(id, "DSA-"), strings.HasPrefix(id, "DLA-"):
		return "Debian Security Advisories"
	}
	prefix, _, _ := strings.Cut(id, "-")
	return prefix
}

// decode reads CSAF JSON into a generic value for the schema.
func decode(data []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
