package sbom

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/integrity"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"
)

const supplier = "Example Medical Devices GmbH"

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// TestMain removes the project binaries built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// projectBinaries builds the project's own executables (medguard and
// medguardd) once per test run.
func projectBinaries(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "medguard-sbom-bin-")
		if binErr != nil {
			return
		}
		binErr = goBuild("../..", binDir)
		if binErr != nil {
			// The work tree may hold another engineer's half-written
			// package; the committed tree must build.
			src, err := os.MkdirTemp("", "medguard-sbom-src-")
			if err != nil {
				return
			}
			defer os.RemoveAll(src)
			arch := exec.Command("sh", "-c", "git -C ../.. archive HEAD | tar -x -C "+src)
			if out, err := arch.CombinedOutput(); err != nil {
				binErr = fmt.Errorf("%v; and exporting HEAD failed: %v %s", binErr, err, out)
				return
			}
			binErr = goBuild(src, binDir)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binDir
}

func goBuild(dir, out string) error {
	cmd := exec.Command("go", "build", "-o", out+string(filepath.Separator), "./cmd/medguard", "./cmd/medguardd")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build the project's binaries in %s: %v\n%s", dir, err, b)
	}
	return nil
}

// releaseTree lays out a software tree with the project's real Go
// executables and a configuration file.
func releaseTree(t *testing.T) string {
	t.Helper()
	bins := projectBinaries(t)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	for _, name := range []string{"medguard", "medguardd"} {
		data, err := os.ReadFile(filepath.Join(bins, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "bin", name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "etc", "medguard.toml"), []byte("[device]\nname = \"bed-12\"\n"), 0o644)
	return root
}

func buildRelease(t *testing.T) *Document {
	t.Helper()
	st, err := LoadSupportTable("testdata/support.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Build(context.Background(), BuildOptions{
		Product: "medguard", Version: "1.2.3", Supplier: supplier,
		Files: Walk{Root: releaseTree(t)}, DpkgStatus: "testdata/dpkg-status", Distro: "debian-12",
		Support: st, Now: func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func find(d *Document, pred func(Component) bool) *Component {
	for i := range d.Components {
		if pred(d.Components[i]) {
			return &d.Components[i]
		}
	}
	return nil
}

func TestBuildFromOwnBinary(t *testing.T) {
	d := buildRelease(t)
	if err := Check(d); err != nil {
		t.Fatalf("completeness gate: %v", err)
	}
	exe := find(d, func(c Component) bool { return c.Path == "bin/medguardd" })
	if exe == nil || exe.Type != TypeApplication || len(exe.Hashes["SHA-256"]) != 64 {
		t.Fatalf("executable component = %+v", exe)
	}
	std := find(d, func(c Component) bool { return strings.HasPrefix(c.PURL, "pkg:golang/stdlib@go1.") })
	if std == nil || std.Supplier != "The Go Authors" || std.SupportLevel != SupportSecurityOnly || std.EndOfSupport != "2027-08-31" {
		t.Fatalf("stdlib component = %+v", std)
	}
	main := find(d, func(c Component) bool { return c.Name == "github.com/medguard/medguard" })
	if main == nil || main.Version != "v1.2.3" || main.PURL != "pkg:golang/github.com/medguard/medguard@v1.2.3" {
		t.Fatalf("main module = %+v, want the release version, never (devel)", main)
	}
	// Every module that the linker recorded in each executable is in the
	// SBOM with its version and go.sum hash, and a supplier.
	root := releaseTree(t)
	var cdxMod *Component
	for _, name := range []string{"medguard", "medguardd"} {
		bi, err := buildinfo.ReadFile(filepath.Join(root, "bin", name))
		if err != nil {
			t.Fatal(err)
		}
		if len(bi.Deps) == 0 && name == "medguardd" {
			t.Errorf("%s links no module: the test proves nothing", name)
		}
		for _, m := range bi.Deps {
			if m.Replace != nil {
				m = m.Replace
			}
			c := find(d, func(c Component) bool { return c.PURL == GoPURL(m.Path, m.Version) })
			if c == nil {
				t.Errorf("%s: module %s@%s missing", name, m.Path, m.Version)
				continue
			}
			if want := moduleHash(m.Sum)["SHA-256"]; want == "" || c.Hashes["SHA-256"] != want || c.Supplier == "" {
				t.Errorf("%s: module %s = %+v", name, m.Path, c)
			}
			cdxMod = c
		}
	}
	if cdxMod == nil {
		t.Fatal("no module found in the project's binaries")
	}
	ssl := find(d, func(c Component) bool { return c.Name == "libssl3" })
	if ssl == nil || ssl.PURL != "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl" || ssl.Supplier != "Debian OpenSSL Team" {
		t.Fatalf("libssl3 = %+v", ssl)
	}
	if find(d, func(c Component) bool { return c.Name == "removed-pkg" }) != nil {
		t.Error("a removed package is in the SBOM")
	}
	for _, c := range d.Components {
		if c.Version == "(devel)" {
			t.Errorf("%s has version (devel)", c.Ref)
		}
	}
	// Dependencies: product → executable → main module → modules.
	if !containsStr(d.Dependencies[d.Product.Ref], exe.Ref) || !containsStr(d.Dependencies[exe.Ref], main.Ref) || !containsStr(d.Dependencies[main.Ref], cdxMod.Ref) {
		t.Error("dependency chain product → executable → main module → module is broken")
	}
}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestCycloneDXValidatesAgainstSchema16(t *testing.T) {
	d := buildRelease(t)
	data, err := CycloneDXBytes(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"specVersion": "1.6"`) {
		t.Fatal("specVersion is not 1.6")
	}
	s := cycloneDXSchema(t)
	if err := validate(t, s, data); err != nil {
		t.Fatalf("CycloneDX 1.6 schema: %v", err)
	}
	for _, want := range []string{PropEndOfSupport, PropSupportLevel, `"metadata"`, `"dependencies"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("CycloneDX output lacks %s", want)
		}
	}
	// The schema is not a rubber stamp: a broken document fails.
	bad := strings.Replace(string(data), `"type": "library"`, `"type": "liberry"`, 1)
	if err := validate(t, s, []byte(bad)); err == nil {
		t.Error("schema accepted an unknown component type")
	}
}

func TestSPDXValidates(t *testing.T) {
	d := buildRelease(t)
	data, err := SPDXBytes(d)
	if err != nil {
		t.Fatal(err)
	}
	s := spdxSchema(t)
	if err := validate(t, s, data); err != nil {
		t.Fatalf("SPDX 2.3 schema: %v", err)
	}
	doc, err := spdxjson.Read(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("tools-golang reads it back: %v", err)
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		t.Fatalf("spdxlib: %v", err)
	}
	bad := strings.Replace(string(data), `"SPDXID": "SPDXRef-Package-1`, `"SPDXID": "Package 1`, 1)
	if err := validate(t, s, []byte(bad)); err == nil {
		t.Error("schema accepted a malformed SPDXID")
	}
}

func TestReadBackBothFormats(t *testing.T) {
	d := buildRelease(t)
	cdx, _ := CycloneDXBytes(d)
	spdx, _ := SPDXBytes(d)
	for name, data := range map[string][]byte{"cyclonedx": cdx, "spdx": spdx} {
		back, err := Read(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(back.Components) != len(d.Components) {
			t.Fatalf("%s: %d components, want %d", name, len(back.Components), len(d.Components))
		}
		if back.Product.PURL != d.Product.PURL || back.Author != supplier || !back.Timestamp.Equal(d.Timestamp) {
			t.Errorf("%s: product/author/timestamp = %q %q %v", name, back.Product.PURL, back.Author, back.Timestamp)
		}
		want := map[string]Component{}
		for _, c := range d.Components {
			want[c.PURL] = c
		}
		for _, c := range back.Components {
			w, ok := want[c.PURL]
			if !ok {
				t.Fatalf("%s: unexpected %s", name, c.PURL)
			}
			if c.Supplier != w.Supplier || c.Version != w.Version || c.EndOfSupport != w.EndOfSupport || c.SupportLevel != w.SupportLevel || c.Hashes["SHA-256"] != w.Hashes["SHA-256"] {
				t.Errorf("%s: %s read back as %+v, want %+v", name, c.PURL, c, w)
			}
		}
		if err := Check(back); err != nil {
			t.Errorf("%s read back fails the gate: %v", name, err)
		}
	}
}

func TestGateFailsOnMissingSupplier(t *testing.T) {
	d := buildRelease(t)
	c := find(d, func(c Component) bool { return c.Name == "go.etcd.io/bbolt" })
	c.Supplier = ""
	err := Check(d)
	var ie *IncompleteError
	if !errors.As(err, &ie) {
		t.Fatalf("Check = %v, want *IncompleteError", err)
	}
	if len(ie.Gaps) != 1 || ie.Gaps[0].Component != c.Ref || ie.Gaps[0].Field != "supplier" {
		t.Fatalf("gaps = %+v, want exactly the supplier of %s", ie.Gaps, c.Ref)
	}
	if !strings.Contains(err.Error(), c.Ref) {
		t.Errorf("error %q does not name the component", err)
	}
}

func TestGateFailsWithoutSupportTable(t *testing.T) {
	d, err := Build(context.Background(), BuildOptions{Product: "p", Version: "1.0.0", Supplier: supplier, Files: Walk{Root: releaseTree(t)}})
	if err != nil {
		t.Fatal(err)
	}
	var ie *IncompleteError
	if !errors.As(Check(d), &ie) {
		t.Fatal("an SBOM without support levels passed the gate")
	}
	fields := map[string]bool{}
	for _, g := range ie.Gaps {
		fields[g.Field+"/"+g.Rule] = true
	}
	if !fields["support level/FDA"] || !fields["end-of-support date/FDA"] {
		t.Errorf("gaps %v lack the FDA fields", fields)
	}
	// An orphan component (no dependency path from the product) is a gap.
	d.Components = append(d.Components, Component{Ref: "pkg:golang/x.org/orphan@v1.0.0", Name: "x.org/orphan", Version: "v1.0.0", PURL: "pkg:golang/x.org/orphan@v1.0.0", Supplier: "x.org", SupportLevel: "active", EndOfSupport: "2030-01-01"})
	errors.As(Check(d), &ie)
	found := false
	for _, g := range ie.Gaps {
		found = found || g.Component == "pkg:golang/x.org/orphan@v1.0.0" && g.Field == "dependency relationship"
	}
	if !found {
		t.Error("orphan component not reported")
	}
}

func TestGoSupplier(t *testing.T) {
	for path, want := range map[string]string{
		"golang.org/x/net": "The Go Authors", "stdlib": "The Go Authors",
		"github.com/spdx/tools-golang": "spdx", "gopkg.in/yaml.v3": "go-yaml",
		"go.etcd.io/bbolt": "etcd.io", "filippo.io/age": "filippo.io", "nodomain/x": "",
	} {
		if got := GoSupplier(path); got != want {
			t.Errorf("GoSupplier(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestVersionlessPURL(t *testing.T) {
	for in, want := range map[string]string{
		"pkg:golang/golang.org/x/net@v0.1.0":         "pkg:golang/golang.org/x/net",
		"pkg:deb/debian/libssl3@3.0.11-1?arch=amd64": "pkg:deb/debian/libssl3",
		"pkg:golang/stdlib":                          "pkg:golang/stdlib",
		"pkg:npm/%40scope/name@1.0.0#sub":            "pkg:npm/%40scope/name",
	} {
		if got := VersionlessPURL(in); got != want {
			t.Errorf("VersionlessPURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSupportTableRejects(t *testing.T) {
	for _, bad := range []string{
		`{"components":[{"purl":"golang/x","support_level":"active"}]}`,
		`{"components":[{"purl":"pkg:golang/x","support_level":"forever"}]}`,
		`{"components":[{"purl":"pkg:golang/x","end_of_support":"31.12.2030"}]}`,
		`{"components":[{"purl":"pkg:golang/x","eos":"2030-01-01"}]}`,
	} {
		if _, err := ParseSupportTable([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestParseDpkgStatusRejects(t *testing.T) {
	for _, bad := range []string{
		"Package: a\nStatus: install ok installed\n", // no version
		" continuation\n", // no field
		"Version: 1\nStatus: install ok installed\n",              // no package
		"Package: a\nStatus: install ok installed\nVersion 1.0\n", // not a field
	} {
		if _, err := ParseDpkgStatus([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestFromManifestChecksHashes(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.conf"), []byte("x=1\n"), 0o644)
	m := &integrity.Manifest{Files: []integrity.Entry{
		{Path: "a.conf", Kind: integrity.KindConfiguration, Size: 4, SHA256: "b0c7ed4d4ad2df1e3e4a4c9c8e6bd8a2aa6c30b1e1e8b4e6d0a8a8a8a8a8a8a8"},
		{Path: "link", Kind: integrity.KindSymlink, Target: "a.conf"},
	}}
	l := FromManifest(root, m)
	if len(l.List) != 1 {
		t.Fatalf("list = %+v, want the symlink left out", l.List)
	}
	// Attack: the file on disk is not the one the manifest hashed.
	_, err := Build(context.Background(), BuildOptions{Product: "p", Version: "1", Supplier: "s", Files: l})
	if !errors.Is(err, ErrFileChanged) {
		t.Fatalf("Build = %v, want ErrFileChanged", err)
	}
	sum, _, _ := hashFile(filepath.Join(root, "a.conf"))
	m.Files[0].SHA256 = sum
	d, err := Build(context.Background(), BuildOptions{Product: "p", Version: "1", Supplier: "s", Files: FromManifest(root, m)})
	if err != nil || len(d.Components) != 1 || d.Components[0].Hashes["SHA-256"] != sum {
		t.Fatalf("Build = %+v, %v", d, err)
	}
}
