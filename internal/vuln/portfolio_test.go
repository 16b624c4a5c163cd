package vuln

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/sbom"
)

const (
	oldNet   = "pkg:golang/golang.org/x/net@v0.0.0-20220826154423-83b083e8dc8b"
	olderNet = "pkg:golang/golang.org/x/net@v0.0.0-20220722155237-a158d28d115b"
	fixedNet = "pkg:golang/golang.org/x/net@v0.60.0"
)

// release makes a minimal SBOM of product monitor at version with the
// given component package URLs.
func release(version string, purls ...string) *sbom.Document {
	p := "pkg:generic/acme/monitor@" + version
	d := &sbom.Document{Product: sbom.Component{Ref: p, PURL: p, Name: "monitor", Version: version}, Dependencies: map[string][]string{}}
	for _, u := range purls {
		d.Components = append(d.Components, sbom.Component{Ref: u, PURL: u})
	}
	return d
}

func findingsFor(ws []WatchFinding, product, id string) []WatchFinding {
	var out []WatchFinding
	for _, w := range ws {
		if w.Product == product && (w.Finding.ID == id || contains(w.Finding.Aliases, id)) {
			out = append(out, w)
		}
	}
	return out
}

func TestVEXNotAffectedCarriedForwardUntilComponentChanges(t *testing.T) {
	db := openGoDB(t)
	p := NewPortfolio([]Release{
		{SBOM: "monitor-1.0.0.cdx.json", Product: "pkg:generic/acme/monitor@1.0.0", Doc: release("1.0.0", oldNet)},
		{SBOM: "monitor-1.1.0.cdx.json", Product: "pkg:generic/acme/monitor@1.1.0", Doc: release("1.1.0", oldNet)},
		{SBOM: "monitor-1.2.0.cdx.json", Product: "pkg:generic/acme/monitor@1.2.0", Doc: release("1.2.0", olderNet)},
		{SBOM: "monitor-1.3.0.cdx.json", Product: "pkg:generic/acme/monitor@1.3.0", Doc: release("1.3.0", fixedNet)},
	})
	tri := NewTriage("Acme PSIRT", time.Now())
	err := tri.Add(Decision{
		Vulnerability: "CVE-2022-27664", // decided under the CVE id; the finding is GO-2022-0969
		Product:       "pkg:generic/acme/monitor@1.0.0", Component: oldNet,
		Status: StatusNotAffected, Justification: "vulnerable_code_not_in_execute_path",
		Impact: "the monitor serves no HTTP/2", Time: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := p.Watch(db, tri, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1.0.0", "1.1.0"} {
		fs := findingsFor(ws, "pkg:generic/acme/monitor@"+v, "GO-2022-0969")
		if len(fs) != 1 || fs[0].Status != string(StatusNotAffected) || !fs[0].Suppressed() {
			t.Errorf("release %s: %+v, want the not_affected decision applied", v, fs)
		}
	}
	// 1.2.0 carries another x/net version: the decision does not hold.
	fs := findingsFor(ws, "pkg:generic/acme/monitor@1.2.0", "GO-2022-0969")
	if len(fs) != 1 || fs[0].Status != Untriaged || fs[0].Suppressed() {
		t.Errorf("release 1.2.0 (component changed): %+v, want untriaged", fs)
	}
	if fs := findingsFor(ws, "pkg:generic/acme/monitor@1.3.0", "GO-2022-0969"); len(fs) != 0 {
		t.Errorf("release 1.3.0 (fixed x/net): %+v", fs)
	}
	// Other vulnerabilities of the same component stay untriaged.
	others := 0
	for _, w := range ws {
		if w.Product == "pkg:generic/acme/monitor@1.1.0" && w.Finding.ID != "GO-2022-0969" {
			others++
			if w.Suppressed() {
				t.Errorf("%s suppressed by a decision about another vulnerability", w.Finding.ID)
			}
		}
	}
	if others == 0 {
		t.Error("old x/net has only one vulnerability?")
	}
	// A decision for another product does not apply.
	tri2 := NewTriage("x", time.Now())
	tri2.Add(Decision{Vulnerability: "GO-2022-0969", Product: "pkg:generic/acme/ventilator@1.0.0", Component: oldNet, Status: StatusNotAffected, Justification: "component_not_present", Time: time.Now()})
	ws, _ = p.Watch(db, tri2, nil)
	if fs := findingsFor(ws, "pkg:generic/acme/monitor@1.0.0", "GO-2022-0969"); fs[0].Suppressed() {
		t.Error("a decision about another product suppressed the finding")
	}
}

func TestTriageStaleWhenRecordChanges(t *testing.T) {
	decided := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	r := record("GO-2099-0002", "Go", "example.com/m", Event{Introduced: "0"})
	r.Modified = decided.Add(24 * time.Hour)
	db, _ := New([]*Record{r})
	p := NewPortfolio([]Release{{SBOM: "a", Product: "pkg:generic/acme/monitor@1.0.0", Doc: release("1.0.0", "pkg:golang/example.com/m@v1.0.0")}})
	tri := NewTriage("x", decided)
	tri.Add(Decision{Vulnerability: "GO-2099-0002", Product: "pkg:generic/acme/monitor@1.0.0", Component: "pkg:golang/example.com/m@v1.0.0", Status: StatusNotAffected, Justification: "inline_mitigations_already_exist", Time: decided})
	ws, _ := p.Watch(db, tri, nil)
	if len(ws) != 1 || !ws[0].Stale || ws[0].Suppressed() {
		t.Fatalf("%+v, want a stale decision that suppresses nothing", ws)
	}
}

func TestTriageRules(t *testing.T) {
	tri := NewTriage("x", time.Now())
	base := Decision{Vulnerability: "GO-1", Product: "pkg:generic/a/b@1", Component: "pkg:golang/x.org/m@v1.0.0", Time: time.Now()}
	d := base
	d.Status = StatusNotAffected // no justification, no impact
	if err := tri.Add(d); err == nil {
		t.Error("not_affected without justification accepted")
	}
	d = base
	d.Status = StatusAffected // no action statement
	if err := tri.Add(d); err == nil {
		t.Error("affected without action statement accepted")
	}
	d.Action = "update to 1.4.1"
	if err := tri.Add(d); err != nil {
		t.Error(err)
	}
	path := filepath.Join(t.TempDir(), "triage.vex.json")
	if err := tri.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadTriage(path, "x", time.Now())
	if err != nil || len(back.VEX().Statements) != 1 {
		t.Fatalf("reload: %v", err)
	}
	os.WriteFile(path, []byte(`{"statements":[{"status":"maybe"}]}`), 0o644)
	if _, err := LoadTriage(path, "x", time.Now()); err == nil {
		t.Error("invalid triage file accepted")
	}
}

func TestWatchNewSinceLastRun(t *testing.T) {
	db := openGoDB(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "watch-state.json")
	p := NewPortfolio([]Release{{SBOM: "a", Product: "pkg:generic/acme/monitor@1.0.0", Doc: release("1.0.0", oldNet)}})
	prev, _ := LoadWatchState(state)
	ws, _ := p.Watch(db, nil, prev)
	if len(ws) == 0 || !ws[0].New {
		t.Fatal("first run: findings should be new")
	}
	if err := SaveWatchState(state, time.Now(), ws); err != nil {
		t.Fatal(err)
	}
	prev, _ = LoadWatchState(state)
	p = NewPortfolio([]Release{
		{SBOM: "a", Product: "pkg:generic/acme/monitor@1.0.0", Doc: release("1.0.0", oldNet)},
		{SBOM: "b", Product: "pkg:generic/acme/monitor@1.1.0", Doc: release("1.1.0", oldNet)},
	})
	ws, _ = p.Watch(db, nil, prev)
	for _, w := range ws {
		if want := w.Product == "pkg:generic/acme/monitor@1.1.0"; w.New != want {
			t.Errorf("%s new=%v, want %v", w.Key(), w.New, want)
		}
	}
	// The index maps the package to every release that has it.
	rs := p.ReleasesWith("pkg:golang/golang.org/x/net")
	if len(rs[oldNet]) != 2 {
		t.Errorf("ReleasesWith = %v", rs)
	}
}

func TestScanAndReports(t *testing.T) {
	db := openGoDB(t)
	d := release("1.0.0", oldNet, fixedNet, "not a purl", "pkg:golang/example.com/noversion")
	d.Components = append(d.Components, sbom.Component{Ref: "file:etc/x"})
	res := db.Scan([]NamedDocument{{Name: "monitor.cdx.json", Doc: d}})
	if len(res) != 1 || len(res[0].Findings) == 0 {
		t.Fatalf("no findings: %+v", res)
	}
	if len(res[0].Unchecked) != 3 {
		t.Errorf("unchecked = %+v, want the bad purl, the versionless one and the file", res[0].Unchecked)
	}
	for _, f := range res[0].Findings {
		if f.Component == fixedNet {
			t.Errorf("fixed x/net reported: %+v", f)
		}
	}
	var b bytes.Buffer
	if err := WriteSARIF(&b, res); err != nil {
		t.Fatal(err)
	}
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string } `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &sarif); err != nil || sarif.Version != "2.1.0" {
		t.Fatalf("sarif: %v", err)
	}
	if len(sarif.Runs[0].Results) != len(res[0].Findings) || len(sarif.Runs[0].Tool.Driver.Rules) == 0 {
		t.Errorf("sarif has %d results for %d findings", len(sarif.Runs[0].Results), len(res[0].Findings))
	}
	b.Reset()
	WriteTable(&b, res)
	if !strings.Contains(b.String(), "GO-2022-0969") || !strings.Contains(b.String(), "unchecked:") {
		t.Errorf("table:\n%s", b.String())
	}
}

func TestParseGovulncheckJSON(t *testing.T) {
	stream := `{"config":{"scanner_name":"govulncheck"}}
{"osv":{"id":"GO-2022-0969"}}
{"finding":{"osv":"GO-2022-0969","trace":[{"module":"golang.org/x/net","version":"v0.0.1"}]}}
{"finding":{"osv":"GO-2023-1571","trace":[{"module":"golang.org/x/net","package":"golang.org/x/net/html"}]}}
{"finding":{"osv":"GO-2023-1571","trace":[{"module":"golang.org/x/net","package":"golang.org/x/net/html","function":"Parse"}]}}
`
	reach, err := ParseGovulncheckJSON(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if reach["GO-2022-0969"] != ReachModuleOnly || reach["GO-2023-1571"] != ReachSymbol {
		t.Fatalf("reach = %v", reach)
	}
	ws := []WatchFinding{
		{Product: "p", Status: Untriaged, Finding: Finding{ID: "GO-2022-0969", Component: oldNet}},
		{Product: "p", Status: Untriaged, Finding: Finding{ID: "GO-2023-1571", Component: oldNet}},
	}
	ProposeFromReach(ws, "p", reach)
	if !strings.HasPrefix(ws[0].Proposal, "not_affected: vulnerable_code_not_in_execute_path") || ws[1].Proposal != "" {
		t.Errorf("proposals = %q, %q", ws[0].Proposal, ws[1].Proposal)
	}
	if ws[0].Suppressed() {
		t.Error("a proposal suppressed a finding")
	}
}

// A component the watch cannot match (no package URL, no version, a
// package URL that does not parse) is listed, never silently dropped.
func TestWatchListsUncheckedComponents(t *testing.T) {
	d := release("1.0.0", "pkg:golang/example.com/m@v1.0.0", "pkg:golang/example.com/noversion", "pkg:%zz")
	d.Components = append(d.Components, sbom.Component{Ref: "file:etc/x.conf", Name: "etc/x.conf"})
	p := NewPortfolio([]Release{{SBOM: "monitor-1.0.0.cdx.json", Product: d.Product.PURL, Doc: d}})
	un := p.Unchecked()
	got := map[string]string{}
	for _, u := range un {
		got[u.Component] = u.Reason
	}
	if len(un) != 3 || got["file:etc/x.conf"] != "no package URL" || !strings.Contains(got["pkg:golang/example.com/noversion"], "no version") || got["pkg:%zz"] == "" {
		t.Fatalf("unchecked = %+v", un)
	}
	db, _ := New([]*Record{record("GO-2099-0003", "Go", "example.com/m", Event{Introduced: "0"})})
	ws, err := p.Watch(db, nil, nil)
	if err != nil || len(ws) != 1 {
		t.Fatalf("Watch = %+v, %v; the checkable component is still matched", ws, err)
	}
}
