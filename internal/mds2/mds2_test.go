package mds2

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/sbom"
	"github.com/medguard/medguard/internal/testenv"
)

const refDir = "../../../shared/data/mds2"

func catalogue(t *testing.T) *Catalogue {
	t.Helper()
	c, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogueMatchesOfficialIDs(t *testing.T) {
	c := catalogue(t)
	if len(c.Sections) != 23 || len(c.Questions) != 240 {
		t.Fatalf("%d sections, %d questions; want 23 and 240", len(c.Sections), len(c.Questions))
	}
	data, err := os.ReadFile(filepath.Join(refDir, "questions.tsv"))
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("the MDS2 reference data is not at %s (shared test data, see shared/data/README.md): %v", refDir, err))
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")[1:]
	if len(lines) != len(c.Questions) {
		t.Fatalf("reference has %d questions", len(lines))
	}
	same := 0
	for i, l := range lines {
		f := strings.Split(l, "\t")
		q := c.Questions[i]
		if q.ID != f[0] || q.Section != f[1] || q.Parent != f[2] {
			t.Errorf("question %d: %s/%s/%s, reference %s/%s/%s", i, q.ID, q.Section, q.Parent, f[0], f[1], f[2])
		}
		if strings.EqualFold(q.Text, strings.TrimSpace(f[3])) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d questions copy the form's wording; medguard words them itself", same)
	}
}

func TestCatalogueRejectsBadData(t *testing.T) {
	secs := []byte("DOC\tAbout\n")
	for _, qs := range []string{
		"DOC-1\t\tq\nDOC-1\t\tq\n", // duplicate
		"XYZ-1\t\tq\n",             // unknown section
		"DOC-1.1\tDOC-1\tq\n",      // parent not defined
		"DOC-1\t\t\n",              // no text
		"DOC-1\tq\n",               // wrong field count
	} {
		if _, err := parseCatalogue(secs, []byte(qs)); err == nil {
			t.Errorf("accepted %q", qs)
		}
	}
}

func facts(t *testing.T, cfg config.Config, src string, d *sbom.Document) *Facts {
	return &Facts{Config: cfg, ConfigSource: src, SBOM: d, SBOMFile: "monitor-1.0.0.cdx.json", Features: DefaultFeatures(), DocumentID: "ACME-MDS2-1", Now: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
}

func answer(f *Form, id string) Answer {
	for _, a := range f.Answers {
		if a.ID == id {
			return a
		}
	}
	return Answer{}
}

func TestFillFromDefaultsWithoutSBOM(t *testing.T) {
	form, err := Fill(catalogue(t), facts(t, config.Default(), "defaults", nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(form.Answers) != 240 || form.Answered+form.ForPerson != 240 || form.Answered < 40 {
		t.Fatalf("answered %d, for a person %d", form.Answered, form.ForPerson)
	}
	a := answer(form, "ALOF-1")
	if a.Value != "Yes" || a.Source != SourceConfig || len(a.Evidence) == 0 || a.Evidence[0].Ref != "auth.session_idle_timeout" {
		t.Errorf("ALOF-1 = %+v", a)
	}
	// No SBOM: its questions go to a person, saying why.
	a = answer(form, "SBOM-2.2")
	if a.Source != SourcePerson || !strings.Contains(a.Note, "SBOM") {
		t.Errorf("SBOM-2.2 without an SBOM = %+v", a)
	}
	// A question no rule covers.
	if a := answer(form, "PLOK-2"); a.Value != NeedsPerson || a.Source != SourcePerson {
		t.Errorf("PLOK-2 = %+v", a)
	}
	for _, a := range form.Answers {
		if a.Source != SourcePerson && a.Source != SourceDoc && len(a.Evidence) == 0 {
			t.Errorf("%s answered %q without evidence", a.ID, a.Value)
		}
	}
}

func TestFillFollowsTheConfiguration(t *testing.T) {
	def, _ := ConfigValue(ptr(config.Default()), "auth.session_idle_timeout")
	path := filepath.Join(t.TempDir(), "medguard.toml")
	os.WriteFile(path, []byte("[auth]\nsession_idle_timeout = \"7m\"\n"), 0o644)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.Load of a file that only sets auth.session_idle_timeout: %v", err)
	}
	form, err := Fill(catalogue(t), facts(t, cfg, path, nil))
	if err != nil {
		t.Fatal(err)
	}
	a := answer(form, "ALOF-1")
	if !strings.Contains(a.Note, "7m0s") || !strings.Contains(a.Evidence[0].Value, path) {
		t.Errorf("ALOF-1 after setting 7m (default %v) = %+v", def, a)
	}
}

func ptr[T any](v T) *T { return &v }

func TestMissingFeatureOrKeyGoesToAPerson(t *testing.T) {
	f := facts(t, config.Default(), "defaults", nil)
	f.Features = nil
	form, _ := Fill(catalogue(t), f)
	if a := answer(form, "AUDT-7"); a.Source != SourcePerson || !strings.Contains(a.Note, "feature eventlog") {
		t.Errorf("AUDT-7 without the eventlog feature = %+v", a)
	}
	if _, ok := ConfigValue(ptr(config.Default()), "no.such_key"); ok {
		t.Error("ConfigValue found a key that does not exist")
	}
}

func TestSBOMAnswers(t *testing.T) {
	d := &sbom.Document{Product: sbom.Component{Name: "monitor", Version: "1.0.0", Supplier: "Acme Medical", PURL: "pkg:generic/acme/monitor@1.0.0"},
		Components: []sbom.Component{
			{Ref: "a", PURL: "pkg:golang/a.org/a@v1.0.0", Version: "v1.0.0", Supplier: "a.org", SupportLevel: "active", EndOfSupport: "2030-01-01"},
			{Ref: "b", PURL: "pkg:golang/b.org/b@v1.0.0", Version: "v1.0.0", SupportLevel: "active", EndOfSupport: "2030-01-01"},
		}}
	form, _ := Fill(catalogue(t), facts(t, config.Default(), "defaults", d))
	if a := answer(form, "SBOM-2.2"); a.Value != "No" || !strings.Contains(a.Note, "b") || a.Source != SourceSBOM {
		t.Errorf("SBOM-2.2 with a supplier missing = %+v", a)
	}
	if a := answer(form, "SBOM-2.1"); a.Value != "Yes" {
		t.Errorf("SBOM-2.1 = %+v", a)
	}
	if a := answer(form, "DOC-1"); a.Value != "Acme Medical" {
		t.Errorf("DOC-1 = %+v", a)
	}
}

func TestDefaultFeaturesExistInTheBuild(t *testing.T) {
	for _, f := range DefaultFeatures() {
		files, _ := filepath.Glob(filepath.Join("../..", f.Package, "*.go"))
		code := 0
		for _, p := range files {
			if !strings.HasSuffix(p, "_test.go") {
				code++
			}
		}
		if code == 0 {
			t.Errorf("feature %s claims package %s, which has no code", f.Name, f.Package)
		}
	}
}

func TestOutputs(t *testing.T) {
	f := facts(t, config.Default(), "defaults", nil)
	f.DocumentID = "<script>alert(1)</script>"
	form, _ := Fill(catalogue(t), f)
	form.Answers[0].Note = "=HYPERLINK(\"http://evil\")"
	var b bytes.Buffer
	if err := form.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Form
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back.Answers) != 240 {
		t.Fatalf("json: %v", err)
	}
	b.Reset()
	form.WriteCSV(&b)
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 241 {
		t.Fatalf("csv: %d rows, %v", len(rows), err)
	}
	if strings.HasPrefix(rows[1][5], "=") {
		t.Error("csv cell starts with a formula")
	}
	b.Reset()
	if err := form.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	if strings.Contains(h, "<script>") || !strings.Contains(h, "AUDT-2.8.1") || !strings.Contains(h, `class="person"`) {
		t.Error("html: script not escaped, or a question or the person marking missing")
	}
}
