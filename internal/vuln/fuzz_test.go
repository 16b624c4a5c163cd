package vuln

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func FuzzParseRecord(f *testing.F) {
	for _, p := range []string{"testdata/debian/DSA-5678-1.json", "testdata/debian/DLA-9999-1.json", filepath.Join(goDBDir, "GO-2022-0969.json"), filepath.Join(goDBDir, "GO-2022-0617.json")} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"id":"X","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:12","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1:1.0-1"},{"last_affected":"1:1.0-3"},{"limit":"2.0"}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRecord("fuzz.json", data)
		if err != nil {
			return
		}
		// A record that parses either compiles into a DB or is refused
		// with an error; matching against it never panics.
		db, err := New([]*Record{r})
		if err != nil {
			return
		}
		for _, a := range r.Affected {
			for _, v := range append(a.Versions, "0.1.0", "1:1.0-2", "v1.2.3") {
				purl := "pkg:golang/" + a.Package.Name + "@" + v
				if baseEcosystem(a.Package.Ecosystem) == "Debian" {
					purl = "pkg:deb/debian/" + a.Package.Name + "@" + v
				}
				db.Match(purl)
			}
		}
	})
}

func FuzzDebianCompare(f *testing.F) {
	f.Add("1:2.36-9+deb12u4", "2.36-9~bpo")
	f.Add("1.0~rc1", "1.0")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, err1 := CompareDebian(a, b)
		ba, err2 := CompareDebian(b, a)
		if err1 != nil || err2 != nil {
			return
		}
		if ab != -ba {
			t.Fatalf("compare(%q,%q)=%d but compare(%q,%q)=%d", a, b, ab, b, a, ba)
		}
		if aa, _ := CompareDebian(a, a); aa != 0 {
			t.Fatalf("%q is not equal to itself", a)
		}
	})
}

func FuzzSemver(f *testing.F) {
	f.Add("v1.2.3-rc.1+meta", "go1.21rc2")
	f.Fuzz(func(t *testing.T, a, b string) {
		va, err1 := Semver{}.Parse(a)
		vb, err2 := Semver{}.Parse(b)
		if err1 != nil || err2 != nil {
			return
		}
		if compare(va, vb) != -compare(vb, va) || compare(va, va) != 0 {
			t.Fatalf("order of %q and %q is not antisymmetric", a, b)
		}
	})
}

// FuzzParseTriage: the triage file is an OpenVEX document that several
// people edit; whatever parses must be usable for Lookup without panics.
func FuzzParseTriage(f *testing.F) {
	tri := NewTriage("Acme PSIRT", time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
	tri.Add(Decision{Vulnerability: "GO-2022-0969", Aliases: []string{"CVE-2022-27664"}, Product: "pkg:generic/acme/monitor@1.0.0",
		Component: "pkg:golang/golang.org/x/net@v0.1.0", Status: StatusNotAffected, Justification: "vulnerable_code_not_in_execute_path", Time: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)})
	var b bytes.Buffer
	tri.VEX().ToJSON(&b)
	f.Add(b.Bytes())
	f.Add([]byte(`{"statements":[{"vulnerability":{"name":"X"},"products":[{"@id":"p","subcomponents":[{"@id":"c"}]}],"status":"fixed"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tri, err := ParseTriage("fuzz.vex.json", data, "", time.Time{})
		if err != nil {
			return
		}
		tri.Lookup("pkg:generic/acme/monitor@1.1.0", Finding{ID: "GO-2022-0969", Aliases: []string{"CVE-2022-27664"}, Component: "pkg:golang/golang.org/x/net@v0.1.0"})
	})
}

// FuzzParseGovulncheckJSON: govulncheck's output is read as a stream of
// JSON messages.
func FuzzParseGovulncheckJSON(f *testing.F) {
	f.Add([]byte(`{"config":{"protocol_version":"v1.0.0"}}` + "\n" + `{"finding":{"osv":"GO-2021-0113","trace":[{"module":"golang.org/x/text","package":"golang.org/x/text/language","function":"Parse"}]}}` + "\n"))
	f.Add([]byte(`{"finding":{"osv":"GO-2021-0113","trace":[{"module":"golang.org/x/text"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseGovulncheckJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		for id, r := range m {
			if id == "" || r != ReachModuleOnly && r != ReachSymbol {
				t.Fatalf("reach[%q] = %v", id, r)
			}
		}
	})
}
