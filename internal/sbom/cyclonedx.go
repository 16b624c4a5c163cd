package sbom

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// CycloneDXSpec is the CycloneDX version medguard writes. cyclonedx-go
// writes its newest version by default; hospitals' tools and the FDA's
// reviewers read 1.6, so it is set explicitly.
const CycloneDXSpec = cdx.SpecVersion1_6

// WriteCycloneDX writes d as CycloneDX 1.6 JSON.
func WriteCycloneDX(w io.Writer, d *Document) error {
	bom := ToCycloneDX(d)
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false) // package URLs carry '&' between qualifiers
	if err := enc.EncodeVersion(bom, CycloneDXSpec); err != nil {
		return fmt.Errorf("write cyclonedx sbom: %w", err)
	}
	return nil
}

// CycloneDXBytes returns d as CycloneDX 1.6 JSON.
func CycloneDXBytes(d *Document) ([]byte, error) {
	var b bytes.Buffer
	if err := WriteCycloneDX(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ToCycloneDX converts d to the CycloneDX model.
func ToCycloneDX(d *Document) *cdx.BOM {
	bom := cdx.NewBOM()
	bom.SpecVersion = CycloneDXSpec
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	bom.SerialNumber = serialNumber(d)
	product := cdxComponent(d.Product)
	bom.Metadata = &cdx.Metadata{
		Timestamp: d.Timestamp.UTC().Format(time.RFC3339),
		Authors:   &[]cdx.OrganizationalContact{{Name: d.Author}},
		Component: &product,
		Supplier:  &cdx.OrganizationalEntity{Name: d.Product.Supplier},
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "medguard", Supplier: &cdx.OrganizationalEntity{Name: d.Product.Supplier},
		}}},
	}
	comps := make([]cdx.Component, 0, len(d.Components))
	for _, c := range d.Components {
		comps = append(comps, cdxComponent(c))
	}
	bom.Components = &comps
	refs := make([]string, 0, len(d.Dependencies))
	for r := range d.Dependencies {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	deps := make([]cdx.Dependency, 0, len(refs))
	seen := map[string]bool{}
	for _, r := range refs {
		on := append([]string(nil), d.Dependencies[r]...)
		deps = append(deps, cdx.Dependency{Ref: r, Dependencies: &on})
		seen[r] = true
	}
	// CycloneDX: a component without dependencies is stated as such.
	for _, c := range d.Components {
		if !seen[c.Ref] {
			deps = append(deps, cdx.Dependency{Ref: c.Ref, Dependencies: &[]string{}})
		}
	}
	bom.Dependencies = &deps
	return bom
}

func cdxComponent(c Component) cdx.Component {
	out := cdx.Component{
		BOMRef:     c.Ref,
		Type:       cdx.ComponentType(c.Type),
		Name:       c.Name,
		Version:    c.Version,
		PackageURL: c.PURL,
	}
	if c.Supplier != "" {
		out.Supplier = &cdx.OrganizationalEntity{Name: c.Supplier}
	}
	if len(c.Hashes) > 0 {
		algs := make([]string, 0, len(c.Hashes))
		for a := range c.Hashes {
			algs = append(algs, a)
		}
		sort.Strings(algs)
		hs := make([]cdx.Hash, 0, len(algs))
		for _, a := range algs {
			hs = append(hs, cdx.Hash{Algorithm: cdx.HashAlgorithm(a), Value: c.Hashes[a]})
		}
		out.Hashes = &hs
	}
	var props []cdx.Property
	if c.SupportLevel != "" {
		props = append(props, cdx.Property{Name: PropSupportLevel, Value: c.SupportLevel})
	}
	if c.EndOfSupport != "" {
		props = append(props, cdx.Property{Name: PropEndOfSupport, Value: c.EndOfSupport})
	}
	if c.Path != "" {
		props = append(props, cdx.Property{Name: PropPath, Value: c.Path})
	}
	if len(props) > 0 {
		out.Properties = &props
	}
	return out
}

// serialNumber is a URN UUID derived from the product, release and
// timestamp, so that the same release built at the same time gets the same
// serial number (reproducible output).
func serialNumber(d *Document) string {
	h := sha256Sum([]byte(d.Product.PURL + "\x00" + d.Timestamp.UTC().Format(time.RFC3339)))
	h[6] = h[6]&0x0f | 0x50 // version 5 style (name-based, SHA)
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
