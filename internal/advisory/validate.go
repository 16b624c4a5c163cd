package advisory

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gocsaf/csaf/v3/csaf"
	"github.com/package-url/packageurl-go"
)

// MaxCSAFSize bounds a CSAF document read from outside.
const MaxCSAFSize = 32 << 20

// Problem is one failed check of a CSAF document.
type Problem struct {
	Test string `json:"test"` // "schema" or the CSAF 2.0 test number, e.g. "6.1.1"
	Path string `json:"path"` // JSON path of the offending element
	Msg  string `json:"message"`
}

// InvalidError lists every problem found in a CSAF document.
type InvalidError struct{ Problems []Problem }

func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "csaf document invalid: %d problem(s)", len(e.Problems))
	for i, p := range e.Problems {
		if i == 8 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-8)
			break
		}
		fmt.Fprintf(&b, "; %s %s: %s", p.Test, p.Path, p.Msg)
	}
	return b.String()
}

// Validate checks a CSAF 2.0 document against the CSAF JSON schema and the
// mandatory tests of §6.1 listed in MandatoryTests, offline. It returns an
// *InvalidError naming every problem, or nil.
func Validate(data []byte) error {
	if len(data) > MaxCSAFSize {
		return fmt.Errorf("validate csaf: %d bytes exceeds the limit of %d", len(data), MaxCSAFSize)
	}
	v, err := decode(data)
	if err != nil {
		return fmt.Errorf("validate csaf: %w", err)
	}
	var probs []Problem
	msgs, err := csaf.ValidateCSAF(v)
	if err != nil {
		return fmt.Errorf("validate csaf: schema: %w", err)
	}
	for _, m := range msgs {
		path, msg, _ := strings.Cut(m, ": ")
		probs = append(probs, Problem{Test: "schema", Path: path, Msg: msg})
	}
	var doc csafDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		if len(probs) == 0 {
			probs = append(probs, Problem{Test: "schema", Path: "", Msg: err.Error()})
		}
	} else {
		probs = append(probs, mandatory(&doc)...)
	}
	if len(probs) > 0 {
		return &InvalidError{Problems: probs}
	}
	return nil
}

// MandatoryTests are the CSAF 2.0 §6.1 tests Validate runs.
var MandatoryTests = []string{
	"6.1.1 missing definition of product id",
	"6.1.2 multiple definition of product id",
	"6.1.6 contradicting product status",
	"6.1.7 multiple scores with same version per product",
	"6.1.13 PURL",
	"6.1.14 sorted revision history",
	"6.1.16 latest document version",
	"6.1.17 document status draft",
	"6.1.21 missing item in revision history",
	"6.1.22 multiple definition in revision history",
	"6.1.23 multiple use of same CVE",
	"6.1.27.4 product tree (security advisory, VEX)",
	"6.1.27.5 vulnerability notes (security advisory, VEX)",
	"6.1.27.6 product status (security advisory)",
	"6.1.27.7 VEX product status",
	"6.1.27.8 vulnerability id (VEX)",
	"6.1.27.9 impact statement (VEX)",
	"6.1.27.10 action statement (VEX)",
	"6.1.27.11 vulnerabilities (security advisory, VEX)",
	"6.1.29 remediation without product reference",
	"6.1.32 flag without product reference",
	"6.1.33 multiple flags with VEX justification codes per product",
}

// csafDoc is the part of a CSAF document the mandatory tests read.
type csafDoc struct {
	Document struct {
		Category string `json:"category"`
		Tracking struct {
			Status          string `json:"status"`
			Version         string `json:"version"`
			RevisionHistory []struct {
				Date   string `json:"date"`
				Number string `json:"number"`
			} `json:"revision_history"`
		} `json:"tracking"`
	} `json:"document"`
	ProductTree *struct {
		Branches         []branch      `json:"branches"`
		FullProductNames []fullProduct `json:"full_product_names"`
		ProductGroups    []struct {
			GroupID    string   `json:"group_id"`
			ProductIDs []string `json:"product_ids"`
		} `json:"product_groups"`
		Relationships []struct {
			FullProductName           fullProduct `json:"full_product_name"`
			ProductReference          string      `json:"product_reference"`
			RelatesToProductReference string      `json:"relates_to_product_reference"`
		} `json:"relationships"`
	} `json:"product_tree"`
	Vulnerabilities []struct {
		CVE           string            `json:"cve"`
		IDs           []json.RawMessage `json:"ids"`
		Notes         []json.RawMessage `json:"notes"`
		ProductStatus *productStatus    `json:"product_status"`
		Flags         []struct {
			Label      string   `json:"label"`
			ProductIDs []string `json:"product_ids"`
			GroupIDs   []string `json:"group_ids"`
		} `json:"flags"`
		Threats []struct {
			Category   string   `json:"category"`
			ProductIDs []string `json:"product_ids"`
			GroupIDs   []string `json:"group_ids"`
		} `json:"threats"`
		Remediations []struct {
			ProductIDs []string `json:"product_ids"`
			GroupIDs   []string `json:"group_ids"`
		} `json:"remediations"`
		Scores []struct {
			Products []string        `json:"products"`
			CVSSv2   json.RawMessage `json:"cvss_v2"`
			CVSSv3   *struct {
				Version string `json:"version"`
			} `json:"cvss_v3"`
		} `json:"scores"`
	} `json:"vulnerabilities"`
}

type branch struct {
	Branches []branch     `json:"branches"`
	Product  *fullProduct `json:"product"`
}

type fullProduct struct {
	ProductID string `json:"product_id"`
	Helper    *struct {
		PURL string `json:"purl"`
	} `json:"product_identification_helper"`
}

type productStatus struct {
	FirstAffected      []string `json:"first_affected"`
	FirstFixed         []string `json:"first_fixed"`
	Fixed              []string `json:"fixed"`
	KnownAffected      []string `json:"known_affected"`
	KnownNotAffected   []string `json:"known_not_affected"`
	LastAffected       []string `json:"last_affected"`
	Recommended        []string `json:"recommended"`
	UnderInvestigation []string `json:"under_investigation"`
}

// groups of §6.1.6: a product may be in only one of them.
func (s *productStatus) groups() map[string][]string {
	return map[string][]string{
		"affected":            append(append(append([]string{}, s.FirstAffected...), s.KnownAffected...), s.LastAffected...),
		"not_affected":        s.KnownNotAffected,
		"fixed":               append(append([]string{}, s.FirstFixed...), s.Fixed...),
		"under_investigation": s.UnderInvestigation,
	}
}

// mandatory runs the tests of MandatoryTests.
func mandatory(d *csafDoc) []Problem {
	var probs []Problem
	add := func(test, path, format string, a ...any) {
		probs = append(probs, Problem{Test: test, Path: path, Msg: fmt.Sprintf(format, a...)})
	}
	defined, groups := definitions(d, add)
	check := func(path string, ids []string) {
		for i, id := range ids {
			if !defined[id] {
				add("6.1.1", fmt.Sprintf("%s/%d", path, i), "product id %q is not defined in the product tree", id)
			}
		}
	}
	profile := d.Document.Category
	isSA, isVEX := profile == ProfileSecurityAdvisory, profile == ProfileVEX
	if (isSA || isVEX) && (d.ProductTree == nil || len(defined) == 0) {
		add("6.1.27.4", "/product_tree", "profile %s requires a product tree", profile)
	}
	if (isSA || isVEX) && len(d.Vulnerabilities) == 0 {
		add("6.1.27.11", "/vulnerabilities", "profile %s requires vulnerabilities", profile)
	}
	cves := map[string]int{}
	for i, v := range d.Vulnerabilities {
		vp := fmt.Sprintf("/vulnerabilities/%d", i)
		if v.CVE != "" {
			if j, dup := cves[v.CVE]; dup {
				add("6.1.23", vp+"/cve", "%s is also used by /vulnerabilities/%d", v.CVE, j)
			}
			cves[v.CVE] = i
		}
		if (isSA || isVEX) && len(v.Notes) == 0 {
			add("6.1.27.5", vp+"/notes", "profile %s requires notes on each vulnerability", profile)
		}
		if isVEX && v.CVE == "" && len(v.IDs) == 0 {
			add("6.1.27.8", vp, "a VEX vulnerability needs a cve or ids")
		}
		ps := v.ProductStatus
		if ps == nil {
			ps = &productStatus{}
		}
		if isSA && v.ProductStatus == nil {
			add("6.1.27.6", vp+"/product_status", "a security advisory needs a product status on each vulnerability")
		}
		if isVEX && len(ps.Fixed)+len(ps.KnownAffected)+len(ps.KnownNotAffected)+len(ps.UnderInvestigation) == 0 {
			add("6.1.27.7", vp+"/product_status", "a VEX vulnerability needs fixed, known_affected, known_not_affected or under_investigation")
		}
		in := map[string]string{}
		gs := ps.groups()
		for _, g := range sortedKeys(gs) {
			check(vp+"/product_status/"+g, gs[g])
			for _, id := range gs[g] {
				if other, ok := in[id]; ok && other != g {
					add("6.1.6", vp+"/product_status", "product %s is both %s and %s", id, other, g)
				}
				in[id] = g
			}
		}
		check(vp+"/product_status/recommended", ps.Recommended)
		impact := map[string]bool{}
		flagged := map[string]int{}
		for j, f := range v.Flags {
			fp := fmt.Sprintf("%s/flags/%d", vp, j)
			if len(f.ProductIDs) == 0 && len(f.GroupIDs) == 0 {
				add("6.1.32", fp, "flag names no product or group")
			}
			check(fp+"/product_ids", f.ProductIDs)
			for _, id := range expand(f.ProductIDs, f.GroupIDs, groups) {
				impact[id] = true
				flagged[id]++
				if flagged[id] == 2 {
					add("6.1.33", fp, "product %s has more than one VEX justification flag", id)
				}
			}
		}
		for j, t := range v.Threats {
			check(fmt.Sprintf("%s/threats/%d/product_ids", vp, j), t.ProductIDs)
			if t.Category == "impact" {
				for _, id := range expand(t.ProductIDs, t.GroupIDs, groups) {
					impact[id] = true
				}
			}
		}
		acted := map[string]bool{}
		for j, r := range v.Remediations {
			rp := fmt.Sprintf("%s/remediations/%d", vp, j)
			if len(r.ProductIDs) == 0 && len(r.GroupIDs) == 0 {
				add("6.1.29", rp, "remediation names no product or group")
			}
			check(rp+"/product_ids", r.ProductIDs)
			for _, id := range expand(r.ProductIDs, r.GroupIDs, groups) {
				acted[id] = true
			}
		}
		if isVEX {
			for _, id := range ps.KnownNotAffected {
				if !impact[id] {
					add("6.1.27.9", vp+"/product_status/known_not_affected", "product %s is not affected but has no impact statement (flag or impact threat)", id)
				}
			}
			for _, id := range ps.KnownAffected {
				if !acted[id] {
					add("6.1.27.10", vp+"/product_status/known_affected", "product %s is affected but has no action statement (remediation)", id)
				}
			}
		}
		scored := map[string]bool{}
		for j, s := range v.Scores {
			check(fmt.Sprintf("%s/scores/%d/products", vp, j), s.Products)
			for _, id := range s.Products {
				key := id + "|v2"
				if s.CVSSv3 != nil {
					key = id + "|" + s.CVSSv3.Version
				}
				if scored[key] {
					add("6.1.7", fmt.Sprintf("%s/scores/%d", vp, j), "product %s has two scores of the same CVSS version", id)
				}
				scored[key] = true
			}
		}
	}
	probs = append(probs, revisionTests(d)...)
	return probs
}

func expand(ids, gids []string, groups map[string][]string) []string {
	out := append([]string{}, ids...)
	for _, g := range gids {
		out = append(out, groups[g]...)
	}
	return out
}

// definitions collects the product ids defined in the product tree (6.1.2
// for duplicates, 6.1.13 for package URLs) and the product groups.
func definitions(d *csafDoc, add func(test, path, format string, a ...any)) (map[string]bool, map[string][]string) {
	defined := map[string]bool{}
	groups := map[string][]string{}
	if d.ProductTree == nil {
		return defined, groups
	}
	def := func(path string, p fullProduct) {
		if defined[p.ProductID] {
			add("6.1.2", path, "product id %q is defined twice", p.ProductID)
		}
		defined[p.ProductID] = true
		if p.Helper != nil && p.Helper.PURL != "" {
			if _, err := packageurl.FromString(p.Helper.PURL); err != nil {
				add("6.1.13", path+"/product_identification_helper/purl", "invalid package URL: %v", err)
			}
		}
	}
	var walk func(path string, bs []branch, depth int)
	walk = func(path string, bs []branch, depth int) {
		if depth > 30 {
			return // the schema limits nesting; do not recurse without end on hostile input
		}
		for i, b := range bs {
			bp := fmt.Sprintf("%s/%d", path, i)
			if b.Product != nil {
				def(bp+"/product", *b.Product)
			}
			walk(bp+"/branches", b.Branches, depth+1)
		}
	}
	walk("/product_tree/branches", d.ProductTree.Branches, 0)
	for i, p := range d.ProductTree.FullProductNames {
		def(fmt.Sprintf("/product_tree/full_product_names/%d", i), p)
	}
	for i, r := range d.ProductTree.Relationships {
		def(fmt.Sprintf("/product_tree/relationships/%d/full_product_name", i), r.FullProductName)
	}
	for i, r := range d.ProductTree.Relationships {
		for _, ref := range []string{r.ProductReference, r.RelatesToProductReference} {
			if !defined[ref] {
				add("6.1.1", fmt.Sprintf("/product_tree/relationships/%d", i), "product id %q is not defined", ref)
			}
		}
	}
	for i, g := range d.ProductTree.ProductGroups {
		groups[g.GroupID] = g.ProductIDs
		for j, id := range g.ProductIDs {
			if !defined[id] {
				add("6.1.1", fmt.Sprintf("/product_tree/product_groups/%d/product_ids/%d", i, j), "product id %q is not defined", id)
			}
		}
	}
	return defined, groups
}

// revisionTests: 6.1.14, 6.1.16, 6.1.17, 6.1.21, 6.1.22 (integer
// versioning; semantic versions are compared by their major part).
func revisionTests(d *csafDoc) []Problem {
	var probs []Problem
	t := d.Document.Tracking
	rh := t.RevisionHistory
	nums := make([]int, 0, len(rh))
	seen := map[string]bool{}
	for i, r := range rh {
		if seen[r.Number] {
			probs = append(probs, Problem{"6.1.22", fmt.Sprintf("/document/tracking/revision_history/%d", i), "revision " + r.Number + " is defined twice"})
		}
		seen[r.Number] = true
		nums = append(nums, major(r.Number))
		if i > 0 && r.Date < rh[i-1].Date {
			probs = append(probs, Problem{"6.1.14", fmt.Sprintf("/document/tracking/revision_history/%d", i), "revision history is not sorted by date"})
		}
	}
	if len(nums) > 0 {
		sorted := append([]int(nil), nums...)
		sort.Ints(sorted)
		if latest := rh[indexOfMax(nums)].Number; latest != t.Version && t.Status != "draft" {
			probs = append(probs, Problem{"6.1.16", "/document/tracking/version", fmt.Sprintf("version %s is not the latest revision %s", t.Version, latest)})
		}
		start := sorted[0]
		if start > 1 {
			probs = append(probs, Problem{"6.1.21", "/document/tracking/revision_history", fmt.Sprintf("revision history starts at %d", start)})
		}
		for i := 1; i < len(sorted); i++ {
			if sorted[i] > sorted[i-1]+1 {
				probs = append(probs, Problem{"6.1.21", "/document/tracking/revision_history", fmt.Sprintf("revision %d is missing", sorted[i-1]+1)})
			}
		}
	}
	if (t.Version == "0" || strings.HasPrefix(t.Version, "0.") || strings.Contains(t.Version, "-")) && t.Status != "draft" {
		probs = append(probs, Problem{"6.1.17", "/document/tracking/status", "a version 0 or pre-release document must have status draft"})
	}
	return probs
}

func major(v string) int {
	m, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(m)
	if err != nil {
		return -1
	}
	return n
}

func indexOfMax(xs []int) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}
