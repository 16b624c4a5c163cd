package sbom

import (
	"bytes"
	"context"
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

func FuzzParseSupportTable(f *testing.F) {
	if data, err := os.ReadFile("testdata/support.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"components":[{"purl":"pkg:golang/*","supplier":"x","support_level":"none","end_of_support":"2030-01-01"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseSupportTable(data)
		if err != nil {
			return
		}
		c := Component{PURL: "pkg:golang/golang.org/x/net@v0.1.0"}
		st.apply(&c)
		switch c.SupportLevel {
		case "", SupportActive, SupportSecurityOnly, SupportNone:
		default:
			t.Fatalf("support level %q applied", c.SupportLevel)
		}
	})
}

// FuzzOpenEnvelope: a signed SBOM comes from outside; only an envelope
// signed by the trusted key opens, whatever the bytes.
func FuzzOpenEnvelope(f *testing.F) {
	k, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	other, _ := GenerateKey()
	sbom := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6"}`)
	env, err := SignEnvelope(context.Background(), k, PayloadCycloneDX, sbom)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(env, SignDetached(k, sbom))
	f.Add([]byte(`{"payloadType":"application/spdx+json","payload":"e30=","signatures":[{"keyid":"x","sig":"AAAA"}]}`), []byte("medguard-sbom-ed25519 sha256:00 AAAA\n"))
	f.Fuzz(func(t *testing.T, envelope, sig []byte) {
		if _, payload, err := OpenEnvelope(context.Background(), envelope, other.Public()); err == nil {
			t.Fatalf("envelope opened under a key that signed nothing: %q", payload)
		}
		if err := VerifyDetached(sbom, sig, other.Public()); err == nil {
			t.Fatal("detached signature verified under a key that signed nothing")
		}
		if !bytes.Equal(envelope, env) {
			if _, payload, err := OpenEnvelope(context.Background(), envelope, k.Public()); err == nil && !bytes.Equal(payload, sbom) {
				t.Fatalf("a changed envelope opened with another payload %q", payload)
			}
		}
	})
}
