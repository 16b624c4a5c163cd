package vuln

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/medguard/medguard/internal/testenv"
)

// goDBDir is the real Go vulnerability database in OSV form, shared by the
// team's machines (see /work/shared/data/README.md).
const goDBDir = "../../../shared/data/osv-go"

var (
	goDBOnce sync.Once
	goDB     *DB
	goDBErr  error
)

// openGoDB opens the real Go database once per test binary, or skips.
func openGoDB(t testing.TB) *DB {
	t.Helper()
	if _, err := os.Stat(goDBDir); err != nil {
		// Skipped, or a failure under MEDGUARD_INTEGRATION=1 (CI has a
		// copy of shared/ beside its clone, so that the path holds there too).
		testenv.Missing(t, fmt.Sprintf("the Go vulnerability database in OSV form is not at %s (shared test data, see shared/data/README.md): %v", goDBDir, err))
	}
	goDBOnce.Do(func() { goDB, goDBErr = Open(goDBDir) })
	if goDBErr != nil {
		t.Fatal(goDBErr)
	}
	return goDB
}

func ids(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func has(fs []Finding, id string) *Finding {
	for i := range fs {
		if fs[i].ID == id || contains(fs[i].Aliases, id) {
			return &fs[i]
		}
	}
	return nil
}

func TestGoDBOldXNetFound(t *testing.T) {
	db := openGoDB(t)
	if db.Len() < 4000 {
		t.Fatalf("only %d records read", db.Len())
	}
	fs, err := db.Match("pkg:golang/golang.org/x/net@v0.0.0-20220826154423-83b083e8dc8b")
	if err != nil {
		t.Fatal(err)
	}
	f := has(fs, "GO-2022-0969")
	if f == nil {
		t.Fatalf("GO-2022-0969 (HTTP/2 DoS) not found for old x/net; got %v", ids(fs))
	}
	// Aliases merged: the CVE and GHSA ids come with the GO id, once.
	if !contains(f.Aliases, "CVE-2022-27664") || !contains(f.Aliases, "GHSA-69cg-p879-7622") {
		t.Errorf("aliases of %s = %v, want the CVE and GHSA ids", f.ID, f.Aliases)
	}
	if f.Fixed != "0.0.0-20220906165146-f3363e06e74c" {
		t.Errorf("fixed = %q", f.Fixed)
	}
	if has(fs, "CVE-2022-27664") != f {
		t.Error("the CVE alias names a second finding")
	}
	if len(fs) < 5 {
		t.Errorf("an x/net from 2022 has only %d findings: %v", len(fs), ids(fs))
	}
}

func TestGoDBFixedVersionNotFound(t *testing.T) {
	db := openGoDB(t)
	fs, err := db.Match("pkg:golang/golang.org/x/net@v0.0.0-20220906165146-f3363e06e74c")
	if err != nil {
		t.Fatal(err)
	}
	if has(fs, "GO-2022-0969") != nil {
		t.Error("GO-2022-0969 reported for the fixed version")
	}
	// A recent x/net has no known vulnerability in this database.
	fs, err = db.Match("pkg:golang/golang.org/x/net@v0.60.0")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("x/net v0.60.0: unexpected findings %v", ids(fs))
	}
}

func TestGoDBStdlib(t *testing.T) {
	db := openGoDB(t)
	fs, err := db.Match("pkg:golang/stdlib@go1.19.0")
	if err != nil {
		t.Fatal(err)
	}
	if has(fs, "GO-2022-0969") == nil {
		t.Errorf("go1.19.0 lacks GO-2022-0969; got %d findings", len(fs))
	}
	fs, _ = db.Match("pkg:golang/stdlib@go1.19.1")
	if has(fs, "GO-2022-0969") != nil {
		t.Error("go1.19.1 (fixed) still reports GO-2022-0969")
	}
}

// A module path with capitals (as OSV records and go.sum spell it) must
// match whatever case the package URL carries: the purl specification
// lowercases golang names, so an SBOM from another tool writes
// pkg:golang/github.com/masterminds/goutils.
func TestGoDBMixedCaseModulePath(t *testing.T) {
	db := openGoDB(t)
	for _, purl := range []string{
		"pkg:golang/github.com/Masterminds/goutils@v1.1.0",
		"pkg:golang/github.com/masterminds/goutils@v1.1.0",
	} {
		fs, err := db.Match(purl)
		if err != nil {
			t.Fatal(err)
		}
		if has(fs, "GO-2022-0411") == nil {
			t.Errorf("%s: GO-2022-0411 not found; got %v", purl, ids(fs))
		}
	}
	fs, _ := db.Match("pkg:golang/github.com/Masterminds/goutils@v1.1.1")
	if has(fs, "GO-2022-0411") != nil {
		t.Error("goutils v1.1.1 (fixed) still reports GO-2022-0411")
	}
}

func TestGoDBWithdrawnIgnored(t *testing.T) {
	db := openGoDB(t)
	if db.Withdrawn() == 0 {
		t.Fatal("the real database has withdrawn records; none counted")
	}
	// GO-2022-0617 (k8s.io/kubernetes, all versions) is withdrawn.
	fs, err := db.Match("pkg:golang/k8s.io/kubernetes@v1.20.0")
	if err != nil {
		t.Fatal(err)
	}
	if f := has(fs, "GO-2022-0617"); f != nil {
		t.Errorf("withdrawn GO-2022-0617 matched: %+v", f)
	}
	if f := has(fs, "CVE-2020-8562"); f != nil {
		t.Errorf("alias of withdrawn record matched: %+v", f)
	}
}

// record builds a one-package record for rule tests.
func record(id string, eco, name string, events ...Event) *Record {
	return &Record{ID: id, Affected: []Affected{{
		Package: Package{Ecosystem: eco, Name: name},
		Ranges:  []Range{{Type: "ECOSYSTEM", Events: events}},
	}}}
}

func TestRangeRules(t *testing.T) {
	recs := []*Record{
		record("LA-1", "Go", "example.com/la", Event{Introduced: "1.0.0"}, Event{LastAffected: "1.2.0"}),
		record("LIM-1", "Go", "example.com/lim", Event{Introduced: "0"}, Event{Limit: "2.0.0"}),
		record("CASE-1", "Go", "example.com/Mixed", Event{Introduced: "0"}, Event{Fixed: "2.0.0"}),
		record("MULTI-1", "Go", "example.com/multi",
			Event{Introduced: "0"}, Event{Fixed: "1.1.0"}, Event{Introduced: "1.5.0"}, Event{Fixed: "1.5.3"}),
	}
	db, err := New(recs)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		purl string
		want bool
	}{
		{"pkg:golang/example.com/la@v0.9.0", false},
		{"pkg:golang/example.com/la@v1.0.0", true},
		{"pkg:golang/example.com/la@v1.2.0", true}, // last_affected is inclusive
		{"pkg:golang/example.com/la@v1.2.1", false},
		{"pkg:golang/example.com/lim@v1.9.9", true},
		{"pkg:golang/example.com/lim@v2.0.0", false}, // limit is exclusive
		{"pkg:golang/example.com/multi@v1.0.9", true},
		{"pkg:golang/example.com/multi@v1.1.0", false},
		{"pkg:golang/example.com/multi@v1.4.0", false},
		{"pkg:golang/example.com/multi@v1.5.2", true},
		{"pkg:golang/example.com/multi@v1.5.3", false},
		{"pkg:golang/example.com/other@v1.0.0", false},
		{"pkg:golang/example.com/Mixed@v1.0.0", true}, // module paths match in any case
		{"pkg:golang/example.com/mixed@v1.0.0", true},
		{"pkg:golang/example.com/mixed@v2.0.0", false},
	}
	for _, tt := range tests {
		fs, err := db.Match(tt.purl)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(fs) > 0; got != tt.want {
			t.Errorf("%s: affected = %v, want %v", tt.purl, got, tt.want)
		}
	}
	fs, _ := db.Match("pkg:golang/example.com/multi@v1.5.0")
	if len(fs) != 1 || fs[0].Fixed != "1.5.3" {
		t.Errorf("fixed for 1.5.0 = %+v, want 1.5.3", fs)
	}
}

func TestAliasesMergedAcrossRecords(t *testing.T) {
	a := record("GO-2099-0001", "Go", "example.com/m", Event{Introduced: "0"})
	a.Aliases = []string{"CVE-2099-1"}
	b := record("GHSA-xxxx-yyyy-zzzz", "Go", "example.com/m", Event{Introduced: "0"}, Event{Fixed: "1.0.0"})
	b.Aliases = []string{"CVE-2099-1"}
	db, err := New([]*Record{a, b})
	if err != nil {
		t.Fatal(err)
	}
	fs, _ := db.Match("pkg:golang/example.com/m@v0.5.0")
	if len(fs) != 1 {
		t.Fatalf("want one merged finding, got %+v", fs)
	}
	if fs[0].ID != "GHSA-xxxx-yyyy-zzzz" || len(fs[0].Records) != 2 || !contains(fs[0].Aliases, "GO-2099-0001") {
		t.Errorf("merged finding = %+v", fs[0])
	}
}

func TestDebianFixture(t *testing.T) {
	db, err := Open("testdata/debian")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		purl string
		want []string
	}{
		// openssl binary package built from the openssl source.
		{"pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl", []string{"DSA-5678-1"}},
		{"pkg:deb/debian/openssl@3.0.13-1~deb12u1?arch=amd64&distro=debian-12", nil},
		// A release the record does not cover.
		{"pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-11", nil},
		// Code name instead of number.
		{"pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=bookworm", []string{"DSA-5678-1"}},
		{"pkg:deb/debian/curl@7.88.1-10+deb12u4?arch=amd64&distro=debian-12", []string{"DLA-9999-1"}},
		{"pkg:deb/debian/curl@7.88.1-10+deb12u10?arch=amd64&distro=debian-12", nil},
		{"pkg:deb/debian/curl@1:7.0-1?arch=amd64&distro=debian-12", nil}, // epoch 1 is above every unversioned range
	}
	for _, tt := range tests {
		fs, err := db.Match(tt.purl)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(ids(fs), ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: got %v, want %v", tt.purl, ids(fs), tt.want)
		}
	}
}

func TestOpenZip(t *testing.T) {
	dir := t.TempDir()
	zp := filepath.Join(dir, "debian.zip")
	f, err := os.Create(zp)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	ents, _ := os.ReadDir("testdata/debian")
	for _, e := range ents {
		data, _ := os.ReadFile(filepath.Join("testdata/debian", e.Name()))
		w, _ := zw.Create(e.Name())
		w.Write(data)
	}
	zw.Close()
	f.Close()
	db, err := Open(zp)
	if err != nil {
		t.Fatal(err)
	}
	if db.Len() != len(ents) {
		t.Errorf("zip: %d records, want %d", db.Len(), len(ents))
	}
}

func TestOpenRejectsBadRecordNamingIt(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "GOOD.json"), []byte(`{"id":"A","modified":"2024-01-01T00:00:00Z"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "BAD.json"), []byte(`{"id":"B","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1.0.0"}]}]}]}`), 0o644)
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), "BAD.json") || !strings.Contains(err.Error(), "exactly one") {
		t.Fatalf("err = %v, want one naming BAD.json and the rule", err)
	}
	os.WriteFile(filepath.Join(dir, "BAD.json"), []byte(`{"id":"B","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"x.y"}]}]}]}`), 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "B") {
		t.Fatalf("bad version: err = %v", err)
	}
}
