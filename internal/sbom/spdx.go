package sbom

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// WriteSPDX writes d as SPDX 2.3 JSON. Every component, files included, is
// an SPDX package (files with primaryPackagePurpose FILE), so that each has
// a supplier, a version and a package URL; the end-of-support date is SPDX's
// validUntilDate ("the end of the support period for a package from the
// supplier"), the support level a package comment
// "medguard:support:level=LEVEL".
func WriteSPDX(w io.Writer, d *Document) error {
	doc := ToSPDX(d)
	if err := spdxjson.Write(doc, w, spdxjson.Indent(" "), spdxjson.EscapeHTML(false)); err != nil {
		return fmt.Errorf("write spdx sbom: %w", err)
	}
	return nil
}

// SPDXBytes returns d as SPDX 2.3 JSON.
func SPDXBytes(d *Document) ([]byte, error) {
	var b bytes.Buffer
	if err := WriteSPDX(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var spdxIDUnsafe = regexp.MustCompile(`[^a-zA-Z0-9.-]+`)

// ToSPDX converts d to the SPDX 2.3 model.
func ToSPDX(d *Document) *spdx.Document {
	ids := map[string]common.ElementID{}
	idOf := func(i int, c Component) common.ElementID {
		s := spdxIDUnsafe.ReplaceAllString(c.Name+"-"+c.Version, "-")
		if len(s) > 60 {
			s = s[:60]
		}
		id := common.ElementID(fmt.Sprintf("Package-%d-%s", i, strings.Trim(s, "-")))
		ids[c.Ref] = id
		return id
	}
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      d.Product.Name + "-" + d.Product.Version,
		DocumentNamespace: "https://spdx.org/spdxdocs/" + d.Product.Name + "-" + d.Product.Version + "-" + strings.TrimPrefix(serialNumber(d), "urn:uuid:"),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{Creator: d.Author, CreatorType: "Organization"}, {Creator: "medguard", CreatorType: "Tool"}},
			Created:  d.Timestamp.UTC().Format(time.RFC3339),
		},
	}
	all := append([]Component{d.Product}, d.Components...)
	for i, c := range all {
		doc.Packages = append(doc.Packages, spdxPackage(idOf(i, c), c))
	}
	doc.Relationships = append(doc.Relationships, &spdx.Relationship{
		RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", string(ids[d.Product.Ref])), Relationship: "DESCRIBES",
	})
	for _, c := range all {
		for _, to := range d.Dependencies[c.Ref] {
			rel := "DEPENDS_ON"
			if c.Ref == d.Product.Ref || c.Type == TypeApplication && strings.HasPrefix(c.Ref, "file:") {
				rel = "CONTAINS"
			}
			if _, ok := ids[to]; !ok {
				continue
			}
			doc.Relationships = append(doc.Relationships, &spdx.Relationship{
				RefA: common.MakeDocElementID("", string(ids[c.Ref])), RefB: common.MakeDocElementID("", string(ids[to])), Relationship: rel,
			})
		}
	}
	return doc
}

func spdxPackage(id common.ElementID, c Component) *spdx.Package {
	p := &spdx.Package{
		PackageName:             c.Name,
		PackageSPDXIdentifier:   id,
		PackageVersion:          c.Version,
		PackageDownloadLocation: "NOASSERTION",
		FilesAnalyzed:           false,
		PackageExternalReferences: []*spdx.PackageExternalReference{{
			Category: "PACKAGE-MANAGER", RefType: "purl", Locator: c.PURL,
		}},
	}
	if c.Supplier != "" {
		p.PackageSupplier = &common.Supplier{Supplier: c.Supplier, SupplierType: "Organization"}
	}
	if h, ok := c.Hashes["SHA-256"]; ok {
		p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: h}}
	}
	switch c.Type {
	case TypeApplication:
		p.PrimaryPackagePurpose = "APPLICATION"
	case TypeLibrary:
		p.PrimaryPackagePurpose = "LIBRARY"
	case TypeOSPackage:
		p.PrimaryPackagePurpose = "OPERATING-SYSTEM"
	case TypeFile:
		p.PrimaryPackagePurpose = "FILE"
	}
	if c.Path != "" {
		p.PackageFileName = c.Path
	}
	if c.EndOfSupport != "" {
		p.ValidUntilDate = c.EndOfSupport + "T00:00:00Z"
	}
	if c.SupportLevel != "" {
		p.PackageComment = PropSupportLevel + "=" + c.SupportLevel
	}
	return p
}
