package advisory

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/sbom"
	"github.com/medguard/medguard/internal/vuln"
	"github.com/openvex/go-vex/pkg/vex"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var now = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

const (
	rel1 = "pkg:generic/acme/monitor@1.0.0"
	rel2 = "pkg:generic/acme/monitor@1.2.0"
	net1 = "pkg:golang/golang.org/x/net@v0.0.0-20220826154423-83b083e8dc8b"
	net2 = "pkg:golang/golang.org/x/net@v0.0.0-20220722155237-a158d28d115b"
)

func finding(product, comp, id, status, just string, aliases ...string) vuln.WatchFinding {
	return vuln.WatchFinding{SBOM: "x", Product: product, Status: status, Justification: just,
		Finding: vuln.Finding{ID: id, Aliases: aliases, Records: []string{id}, Summary: "Denial of service in net/http and golang.org/x/net/http2", Component: comp, Fixed: "0.0.0-20220906165146-f3363e06e74c"}}
}

func triaged() []vuln.WatchFinding {
	return []vuln.WatchFinding{
		finding(rel1, net1, "GO-2022-0969", "not_affected", "vulnerable_code_not_in_execute_path", "CVE-2022-27664", "GHSA-69cg-p879-7622"),
		finding(rel2, net2, "GO-2022-0969", vuln.Untriaged, "", "CVE-2022-27664", "GHSA-69cg-p879-7622"),
		finding(rel1, net1, "GO-2023-1571", "affected", "", "CVE-2022-41723"),
		finding(rel2, net2, "GO-2023-1571", "fixed", "", "CVE-2022-41723"),
	}
}

func options(profile string) Options {
	return Options{
		Profile: profile, TrackingID: "ACME-SA-2026-0001", Title: "x/net vulnerabilities in Acme monitors",
		Publisher: Publisher{Name: "Acme Medical", Namespace: "https://acme.example", ContactDetails: "psirt@acme.example"},
		Version:   2, Now: now, Initial: now.Add(-48 * time.Hour), Summary: "Two vulnerabilities of golang.org/x/net.",
		Findings: triaged(),
	}
}

func TestCSAFBothProfilesValidate(t *testing.T) {
	for _, p := range []string{ProfileSecurityAdvisory, ProfileVEX} {
		data, err := Build(options(p))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var doc map[string]any
		json.Unmarshal(data, &doc)
		if doc["document"].(map[string]any)["category"] != p {
			t.Errorf("%s: category %v", p, doc["document"].(map[string]any)["category"])
		}
		s := string(data)
		for _, want := range []string{`"purl": "` + rel1 + `"`, `"cve": "CVE-2022-27664"`, `"known_not_affected"`, `"vulnerable_code_not_in_execute_path"`, `"under_investigation"`, `"known_affected"`, `"vendor_fix"`} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: output lacks %s", p, want)
			}
		}
	}
}

// mutate decodes a valid document, changes it and re-encodes it.
func mutate(t *testing.T, profile string, f func(doc map[string]any)) []byte {
	t.Helper()
	data, err := Build(options(profile))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(data, &doc)
	f(doc)
	out, _ := json.Marshal(doc)
	return out
}

func vulnN(doc map[string]any, i int) map[string]any {
	return doc["vulnerabilities"].([]any)[i].(map[string]any)
}

func TestCSAFValidationCatchesBrokenDocuments(t *testing.T) {
	tests := []struct {
		name, profile, test string
		f                   func(map[string]any)
	}{
		{"missing title", ProfileVEX, "schema", func(d map[string]any) { delete(d["document"].(map[string]any), "title") }},
		{"undefined product", ProfileVEX, "6.1.1", func(d map[string]any) {
			ps := vulnN(d, 0)["product_status"].(map[string]any)
			ps["under_investigation"] = append(ps["under_investigation"].([]any), "CSAFPID-9999")
		}},
		{"contradicting status", ProfileSecurityAdvisory, "6.1.6", func(d map[string]any) {
			ps := vulnN(d, 0)["product_status"].(map[string]any)
			ps["fixed"] = ps["known_not_affected"]
		}},
		{"not affected without impact statement", ProfileVEX, "6.1.27.9", func(d map[string]any) {
			delete(vulnN(d, 0), "flags")
			delete(vulnN(d, 0), "threats")
		}},
		{"affected without action", ProfileVEX, "6.1.27.10", func(d map[string]any) { delete(vulnN(d, 1), "remediations") }},
		{"version not latest revision", ProfileVEX, "6.1.16", func(d map[string]any) {
			d["document"].(map[string]any)["tracking"].(map[string]any)["version"] = "1"
		}},
		{"same CVE twice", ProfileVEX, "6.1.23", func(d map[string]any) { vulnN(d, 1)["cve"] = vulnN(d, 0)["cve"] }},
		{"no vulnerabilities", ProfileSecurityAdvisory, "6.1.27.11", func(d map[string]any) { delete(d, "vulnerabilities") }},
		{"bad purl", ProfileVEX, "6.1.13", func(d map[string]any) {
			leaf := d["product_tree"].(map[string]any)["branches"].([]any)[0].(map[string]any)["branches"].([]any)[0].(map[string]any)["branches"].([]any)[0].(map[string]any)
			leaf["product"].(map[string]any)["product_identification_helper"].(map[string]any)["purl"] = "pkg:generic/%zz"
		}},
		{"missing revision", ProfileVEX, "6.1.21", func(d map[string]any) {
			tr := d["document"].(map[string]any)["tracking"].(map[string]any)
			tr["revision_history"] = tr["revision_history"].([]any)[1:]
			tr["revision_history"].([]any)[0].(map[string]any)["number"] = "2"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(mutate(t, tt.profile, tt.f))
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("Validate = %v, want *InvalidError", err)
			}
			for _, p := range ie.Problems {
				if p.Test == tt.test {
					return
				}
			}
			t.Errorf("problems %+v lack test %s", ie.Problems, tt.test)
		})
	}
}

func TestOpenVEX(t *testing.T) {
	data, err := OpenVEX("Acme PSIRT", "https://acme.example/vex/1", now, triaged())
	if err != nil {
		t.Fatal(err)
	}
	var doc vex.VEX
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Statements) != 4 {
		t.Fatalf("%d statements", len(doc.Statements))
	}
	st := doc.EffectiveStatement(rel1, "CVE-2022-27664")
	if st == nil || st.Status != vex.StatusNotAffected || st.Justification != vex.VulnerableCodeNotInExecutePath {
		t.Errorf("rel1 statement via its CVE alias = %+v", st)
	}
	if st := doc.EffectiveStatement(rel2, "GO-2022-0969"); st == nil || st.Status != vex.StatusUnderInvestigation {
		t.Errorf("untriaged finding published as %+v, want under_investigation", st)
	}
}

func TestCycloneDXVEXValidates(t *testing.T) {
	rel := &sbom.Document{Product: sbom.Component{Ref: rel1, PURL: rel1, Name: "monitor", Version: "1.0.0"},
		Components: []sbom.Component{{Ref: net1, PURL: net1, Name: "golang.org/x/net", Version: "v0.0.0-20220826154423-83b083e8dc8b"}}}
	data, err := CycloneDXVEX(rel, now, triaged())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/CycloneDX/cyclonedx-go").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "schema")
	c := jsonschema.NewCompiler()
	for u, f := range map[string]string{"bom-1.6.schema.json": "bom-1.6.schema.json", "spdx.schema.json": "spdx.schema.json", "jsf-0.82.schema.json": "jsf-0.82.schemax.json"} {
		doc, err := loadJSON(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		c.AddResource("http://cyclonedx.org/schema/"+u, doc)
	}
	s, err := c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err := s.Validate(inst); err != nil {
		t.Fatalf("CycloneDX VEX: %v", err)
	}
	for _, want := range []string{`"state": "not_affected"`, `"justification": "code_not_reachable"`, `"state": "exploitable"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("lacks %s", want)
		}
	}
	if strings.Contains(string(data), rel2) {
		t.Error("another release's findings leaked into the VEX")
	}
}

// Attack on the hospital's trust: GO-2022-0969 is in both the standard
// library and golang.org/x/net. A "not affected" decision about x/net
// must not publish the release as not affected while its stdlib is
// untriaged or affected.
func TestCSAFReleaseStatusIsItsWorstComponent(t *testing.T) {
	const std = "pkg:golang/stdlib@go1.19.0"
	for _, tt := range []struct {
		stdStatus, want, notWant string
	}{
		{vuln.Untriaged, "under_investigation", "known_not_affected"},
		{"affected", "known_affected", "known_not_affected"},
		{"not_affected", "known_not_affected", "under_investigation"},
	} {
		o := options(ProfileVEX)
		o.Findings = []vuln.WatchFinding{
			finding(rel1, net1, "GO-2022-0969", "not_affected", "vulnerable_code_not_in_execute_path", "CVE-2022-27664"),
			finding(rel1, std, "GO-2022-0969", tt.stdStatus, "vulnerable_code_not_present", "CVE-2022-27664"),
		}
		data, err := Build(o)
		if err != nil {
			t.Fatalf("stdlib %s: %v", tt.stdStatus, err)
		}
		var doc struct {
			Vulnerabilities []struct {
				ProductStatus map[string][]string `json:"product_status"`
				Remediations  []struct {
					Details string `json:"details"`
				} `json:"remediations"`
			} `json:"vulnerabilities"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		ps := doc.Vulnerabilities[0].ProductStatus
		if len(ps[tt.want]) != 1 || len(ps[tt.notWant]) != 0 {
			t.Errorf("stdlib %s: product status %v, want the release under %s only", tt.stdStatus, ps, tt.want)
		}
		if tt.stdStatus == "affected" && (len(doc.Vulnerabilities[0].Remediations) != 1 || !strings.Contains(doc.Vulnerabilities[0].Remediations[0].Details, "pkg:golang/stdlib")) {
			t.Errorf("affected stdlib: remediations %+v, want one naming the stdlib", doc.Vulnerabilities[0].Remediations)
		}
	}
}
