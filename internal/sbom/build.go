package sbom

import (
	"context"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"
)

// BuildOptions says what goes into a release's SBOM.
type BuildOptions struct {
	Product  string // product name, e.g. "medguard"
	Version  string // release version, e.g. "1.4.0"; replaces "(devel)"
	Supplier string // the device maker
	Author   string // who produces the SBOM data; default: Supplier
	// ProductPURL is the product's package URL; default
	// pkg:generic/<supplier>/<product>@<version>.
	ProductPURL string
	Files       FileSource // the software tree (required)
	// DpkgStatus is the path of a root filesystem's dpkg status file
	// (var/lib/dpkg/status); empty for none.
	DpkgStatus string
	// Distro qualifies Debian package URLs, e.g. "debian-12".
	Distro  string
	Support *SupportTable    // the maker's support table; nil for none
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default: discard
}

// Build assembles the Document of a release.
func Build(ctx context.Context, o BuildOptions) (*Document, error) {
	if o.Product == "" || o.Version == "" || o.Supplier == "" {
		return nil, errors.New("build sbom: product, version and supplier are required")
	}
	if o.Files == nil {
		return nil, errors.New("build sbom: no software tree given")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Author == "" {
		o.Author = o.Supplier
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	b := &builder{
		o:    o,
		doc:  &Document{Author: o.Author, Timestamp: o.Now().UTC().Truncate(time.Second), Dependencies: map[string][]string{}},
		byID: map[string]int{},
	}
	purl := o.ProductPURL
	if purl == "" {
		purl = packageurl.NewPackageURL("generic", o.Supplier, o.Product, o.Version, nil, "").ToString()
	}
	b.doc.Product = Component{Ref: purl, Type: TypeApplication, Name: o.Product, Version: o.Version, PURL: purl, Supplier: o.Supplier}
	files, err := o.Files.Files(ctx)
	if err != nil {
		return nil, fmt.Errorf("build sbom: %w", err)
	}
	for _, f := range files {
		if err := b.addFile(f); err != nil {
			return nil, fmt.Errorf("build sbom: %s: %w", f.Path, err)
		}
	}
	if o.DpkgStatus != "" {
		pkgs, err := ReadDpkgStatus(o.DpkgStatus)
		if err != nil {
			return nil, fmt.Errorf("build sbom: %w", err)
		}
		for _, p := range pkgs {
			c := p.component(o.Distro)
			b.add(c)
			b.dep(purl, c.Ref)
		}
	}
	for i := range b.doc.Components {
		o.Support.apply(&b.doc.Components[i])
	}
	o.Support.apply(&b.doc.Product)
	b.doc.normalize()
	return b.doc, nil
}

type builder struct {
	o    BuildOptions
	doc  *Document
	byID map[string]int // ref → index in doc.Components
}

// add inserts c unless a component with its ref exists.
func (b *builder) add(c Component) {
	if _, ok := b.byID[c.Ref]; ok {
		return
	}
	b.byID[c.Ref] = len(b.doc.Components)
	b.doc.Components = append(b.doc.Components, c)
}

func (b *builder) dep(from, to string) {
	b.doc.Dependencies[from] = append(b.doc.Dependencies[from], to)
}

// addFile adds a file: a Go executable with its modules, or a plain file.
func (b *builder) addFile(f File) error {
	fh, err := b.o.Files.Open(f.Path)
	if err != nil {
		return err
	}
	bi, berr := buildinfo.Read(fh)
	fh.Close()
	fileRef := "file:" + f.Path
	c := Component{
		Ref: fileRef, Type: TypeFile, Name: f.Path, Version: b.o.Version,
		PURL:     b.filePURL(f),
		Supplier: b.o.Supplier, Path: f.Path,
		Hashes: map[string]string{"SHA-256": f.SHA256},
	}
	if berr != nil { // not a Go executable
		b.add(c)
		b.dep(b.doc.Product.Ref, fileRef)
		return nil
	}
	c.Type = TypeApplication
	b.add(c)
	b.dep(b.doc.Product.Ref, fileRef)
	b.addGoBuild(fileRef, bi)
	return nil
}

// filePURL names a file of the release as a generic package URL with its
// SHA-256 as checksum qualifier, so that every file has a unique id.
func (b *builder) filePURL(f File) string {
	q := packageurl.QualifiersFromMap(map[string]string{"checksum": "sha256:" + f.SHA256})
	return packageurl.NewPackageURL("generic", b.o.Product, f.Path, b.o.Version, q, "").ToString()
}

// addGoBuild adds the main module, every linked module and the standard
// library of one executable.
func (b *builder) addGoBuild(exeRef string, bi *debug.BuildInfo) {
	mainVer := bi.Main.Version
	if mainVer == "" || mainVer == "(devel)" || strings.Contains(mainVer, "+dirty") {
		mainVer = goVersion(b.o.Version)
	}
	mainPURL := GoPURL(bi.Main.Path, mainVer)
	b.add(Component{Ref: mainPURL, Type: TypeLibrary, Name: bi.Main.Path, Version: mainVer, PURL: mainPURL, Supplier: b.o.Supplier, Hashes: moduleHash(bi.Main.Sum)})
	b.dep(exeRef, mainPURL)
	std := strings.Fields(bi.GoVersion)
	if len(std) > 0 {
		sp := GoPURL("stdlib", std[0])
		b.add(Component{Ref: sp, Type: TypeLibrary, Name: "stdlib", Version: std[0], PURL: sp, Supplier: GoSupplier("stdlib")})
		b.dep(mainPURL, sp)
	}
	for _, m := range bi.Deps {
		if m.Replace != nil {
			m = m.Replace
		}
		if m.Version == "" {
			continue // a local replacement directory: part of the main module's source
		}
		p := GoPURL(m.Path, m.Version)
		b.add(Component{Ref: p, Type: TypeLibrary, Name: m.Path, Version: m.Version, PURL: p, Supplier: GoSupplier(m.Path), Hashes: moduleHash(m.Sum)})
		b.dep(mainPURL, p)
	}
}

// goVersion turns a release version into a Go module version ("1.4.0" →
// "v1.4.0").
func goVersion(v string) string {
	if strings.HasPrefix(v, "v") {
		return v
	}
	return "v" + v
}

// GoPURL is the package URL of a Go module (pkg:golang/golang.org/x/net@v0.1.0)
// or, for "stdlib", of the Go standard library (pkg:golang/stdlib@go1.26.8).
func GoPURL(path, version string) string {
	ns, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		ns, name = path[:i], path[i+1:]
	}
	return packageurl.NewPackageURL("golang", ns, name, version, nil, "").ToString()
}

// moduleHash turns a go.sum hash ("h1:" + base64 SHA-256 of the module's
// file tree) into a SHA-256 hash entry.
func moduleHash(sum string) map[string]string {
	b64, ok := strings.CutPrefix(sum, "h1:")
	if !ok {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 32 {
		return nil
	}
	return map[string]string{"SHA-256": hex.EncodeToString(raw)}
}

// GoSupplier guesses the supplier of a Go module from its path: the Go
// project for the standard library and golang.org/x, the owner for code
// hosts, the domain otherwise. The support table overrides it; the
// completeness gate catches what it cannot tell.
func GoSupplier(path string) string {
	if path == "stdlib" || path == "std" || strings.HasPrefix(path, "golang.org/x/") || path == "toolchain" {
		return "The Go Authors"
	}
	parts := strings.Split(path, "/")
	switch parts[0] {
	case "github.com", "gitlab.com", "bitbucket.org", "codeberg.org":
		if len(parts) >= 2 {
			return parts[1]
		}
		return ""
	case "gopkg.in":
		// gopkg.in/yaml.v3 is github.com/go-yaml/yaml; gopkg.in/user/pkg.v1 is github.com/user/pkg.
		if len(parts) >= 3 {
			return parts[1]
		}
		if len(parts) == 2 {
			name, _, _ := strings.Cut(parts[1], ".")
			return "go-" + name
		}
		return ""
	case "google.golang.org", "cloud.google.com":
		return "Google LLC"
	case "k8s.io", "sigs.k8s.io":
		return "The Kubernetes Authors"
	}
	if strings.Contains(parts[0], ".") {
		d := strings.TrimPrefix(parts[0], "go.")
		return d
	}
	return ""
}
