package sbom

import (
	"os"
	"testing"
)

func FuzzRead(f *testing.F) {
	d := &Document{Product: Component{Ref: "pkg:generic/a/p@1", Name: "p", Version: "1", PURL: "pkg:generic/a/p@1", Supplier: "a"},
		Author: "a", Components: []Component{{Ref: "pkg:golang/x.org/m@v1.0.0", Type: TypeLibrary, Name: "x.org/m", Version: "v1.0.0", PURL: "pkg:golang/x.org/m@v1.0.0", Supplier: "x", Hashes: map[string]string{"SHA-256": "00"}, SupportLevel: "active", EndOfSupport: "2030-01-01"}},
		Dependencies: map[string][]string{"pkg:generic/a/p@1": {"pkg:golang/x.org/m@v1.0.0"}}}
	c, _ := CycloneDXBytes(d)
	s, _ := SPDXBytes(d)
	f.Add(c)
	f.Add(s)
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"components":[{"name":"x"}]}]}`))
	f.Add([]byte(`{"spdxVersion":"SPDX-2.2","packages":[{"SPDXID":"SPDXRef-a"}],"relationships":[{"relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-a"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Read(data)
		if err != nil {
			return
		}
		// Whatever was read must write and read back the same components.
		out, err := CycloneDXBytes(d)
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		back, err := Read(out)
		if err != nil {
			t.Fatalf("read re-marshalled: %v", err)
		}
		if len(back.Components) != len(d.Components) {
			t.Fatalf("%d components became %d", len(d.Components), len(back.Components))
		}
		_ = Check(d)
	})
}

func FuzzParseDpkgStatus(f *testing.F) {
	if data, err := os.ReadFile("testdata/dpkg-status"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("Package: a\nStatus: install ok installed\nVersion: 1\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := ParseDpkgStatus(data)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("package without name or version: %+v", p)
			}
			_ = p.component("debian-12")
		}
	})
}
