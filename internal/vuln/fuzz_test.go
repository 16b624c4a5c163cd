package vuln

import (
	"os"
	"path/filepath"
	"testing"
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
