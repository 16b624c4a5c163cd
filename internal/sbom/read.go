package sbom

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// MaxSize bounds an SBOM read from outside (a release of 200 components is
// about 100 KiB; the largest container images' SBOMs are a few MiB).
const MaxSize = 64 << 20

// ErrFormat is returned (wrapped) for a document that is neither CycloneDX
// JSON nor SPDX 2.x JSON, or breaks their rules.
var ErrFormat = errors.New("not a CycloneDX or SPDX JSON SBOM")

// ReadFile reads an SBOM file (CycloneDX or SPDX JSON).
func ReadFile(path string) (*Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read sbom: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read sbom %s: %w", path, err)
	}
	d, err := Read(data)
	if err != nil {
		return nil, fmt.Errorf("read sbom %s: %w", path, err)
	}
	return d, nil
}

// Read parses a CycloneDX (1.4 to 1.7) or SPDX 2.x JSON document into a
// Document. Only what medguard uses is read; unknown fields are ignored as
// both specifications allow.
func Read(data []byte) (*Document, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrFormat, len(data), MaxSize)
	}
	var probe struct {
		BOMFormat   string `json:"bomFormat"`
		SPDXVersion string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	switch {
	case probe.BOMFormat == "CycloneDX":
		return readCycloneDX(data)
	case strings.HasPrefix(probe.SPDXVersion, "SPDX-2."):
		return readSPDX(data)
	}
	return nil, ErrFormat
}

type cdxIn struct {
	SpecVersion string `json:"specVersion"`
	Metadata    struct {
		Timestamp string `json:"timestamp"`
		Authors   []struct {
			Name string `json:"name"`
		} `json:"authors"`
		Component *cdxCompIn `json:"component"`
	} `json:"metadata"`
	Components   []cdxCompIn `json:"components"`
	Dependencies []struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn"`
	} `json:"dependencies"`
}

type cdxCompIn struct {
	BOMRef   string `json:"bom-ref"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	PURL     string `json:"purl"`
	Supplier *struct {
		Name string `json:"name"`
	} `json:"supplier"`
	Hashes []struct {
		Alg     string `json:"alg"`
		Content string `json:"content"`
	} `json:"hashes"`
	Properties []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"properties"`
	Components []cdxCompIn `json:"components"`
}

func (c *cdxCompIn) component() Component {
	out := Component{Ref: c.BOMRef, Type: c.Type, Name: c.Name, Version: c.Version, PURL: c.PURL}
	if out.Ref == "" {
		out.Ref = c.PURL
	}
	if c.Supplier != nil {
		out.Supplier = c.Supplier.Name
	}
	for _, h := range c.Hashes {
		if out.Hashes == nil {
			out.Hashes = map[string]string{}
		}
		out.Hashes[h.Alg] = strings.ToLower(h.Content)
	}
	for _, p := range c.Properties {
		switch p.Name {
		case PropSupportLevel:
			out.SupportLevel = p.Value
		case PropEndOfSupport:
			out.EndOfSupport = p.Value
		case PropPath:
			out.Path = p.Value
		}
	}
	return out
}

// maxDepth bounds nested CycloneDX components.
const maxDepth = 32

func readCycloneDX(data []byte) (*Document, error) {
	var in cdxIn
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("%w: cyclonedx: %v", ErrFormat, err)
	}
	if !strings.HasPrefix(in.SpecVersion, "1.") {
		return nil, fmt.Errorf("%w: cyclonedx specVersion %q", ErrFormat, in.SpecVersion)
	}
	d := &Document{Dependencies: map[string][]string{}}
	if in.Metadata.Component != nil {
		d.Product = in.Metadata.Component.component()
	}
	if len(in.Metadata.Authors) > 0 {
		d.Author = in.Metadata.Authors[0].Name
	}
	if in.Metadata.Timestamp != "" {
		t, err := time.Parse(time.RFC3339, in.Metadata.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("%w: cyclonedx metadata.timestamp: %v", ErrFormat, err)
		}
		d.Timestamp = t
	}
	var walk func(cs []cdxCompIn, depth int) error
	walk = func(cs []cdxCompIn, depth int) error {
		if depth > maxDepth {
			return fmt.Errorf("%w: cyclonedx components nested deeper than %d", ErrFormat, maxDepth)
		}
		for i := range cs {
			c := cs[i].component()
			if c.Ref == "" {
				c.Ref = fmt.Sprintf("cdx:component-%d", len(d.Components)) // neither bom-ref nor purl
			}
			d.Components = append(d.Components, c)
			if err := walk(cs[i].Components, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(in.Components, 0); err != nil {
		return nil, err
	}
	for _, dep := range in.Dependencies {
		if dep.Ref == "" {
			return nil, fmt.Errorf("%w: cyclonedx dependency without ref", ErrFormat)
		}
		if len(dep.DependsOn) > 0 {
			d.Dependencies[dep.Ref] = append(d.Dependencies[dep.Ref], dep.DependsOn...)
		}
	}
	d.normalize()
	return d, nil
}

type spdxIn struct {
	SPDXVersion  string `json:"spdxVersion"`
	CreationInfo struct {
		Created  string   `json:"created"`
		Creators []string `json:"creators"`
	} `json:"creationInfo"`
	Packages []struct {
		SPDXID       string `json:"SPDXID"`
		Name         string `json:"name"`
		Version      string `json:"versionInfo"`
		Supplier     string `json:"supplier"`
		FileName     string `json:"packageFileName"`
		Purpose      string `json:"primaryPackagePurpose"`
		ValidUntil   string `json:"validUntilDate"`
		Comment      string `json:"comment"`
		ExternalRefs []struct {
			Type    string `json:"referenceType"`
			Locator string `json:"referenceLocator"`
		} `json:"externalRefs"`
		Checksums []struct {
			Algorithm string `json:"algorithm"`
			Value     string `json:"checksumValue"`
		} `json:"checksums"`
	} `json:"packages"`
	Relationships []struct {
		A    string `json:"spdxElementId"`
		B    string `json:"relatedSpdxElement"`
		Type string `json:"relationshipType"`
	} `json:"relationships"`
}

var spdxAlg = map[string]string{"SHA256": "SHA-256", "SHA1": "SHA-1", "SHA512": "SHA-512", "SHA384": "SHA-384", "MD5": "MD5"}

var spdxType = map[string]string{"APPLICATION": TypeApplication, "LIBRARY": TypeLibrary, "OPERATING-SYSTEM": TypeOSPackage, "FILE": TypeFile}

func readSPDX(data []byte) (*Document, error) {
	var in spdxIn
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("%w: spdx: %v", ErrFormat, err)
	}
	d := &Document{Dependencies: map[string][]string{}}
	if in.CreationInfo.Created != "" {
		t, err := time.Parse(time.RFC3339, in.CreationInfo.Created)
		if err != nil {
			return nil, fmt.Errorf("%w: spdx creationInfo.created: %v", ErrFormat, err)
		}
		d.Timestamp = t
	}
	for _, c := range in.CreationInfo.Creators {
		if who, ok := strings.CutPrefix(c, "Organization: "); ok && d.Author == "" {
			d.Author = who
		} else if who, ok := strings.CutPrefix(c, "Person: "); ok && d.Author == "" {
			d.Author = who
		}
	}
	refOf := map[string]string{} // SPDXID → component ref
	byID := map[string]Component{}
	for i, p := range in.Packages {
		if p.SPDXID == "" {
			return nil, fmt.Errorf("%w: spdx packages[%d] has no SPDXID", ErrFormat, i)
		}
		c := Component{Name: p.Name, Version: p.Version, Type: spdxType[p.Purpose], Path: p.FileName}
		for _, r := range p.ExternalRefs {
			if r.Type == "purl" {
				c.PURL = r.Locator
			}
		}
		c.Ref = c.PURL
		if c.Type == TypeFile || c.Ref == "" {
			c.Ref = "spdx:" + p.SPDXID
			if p.FileName != "" {
				c.Ref = "file:" + p.FileName
			}
		}
		if c.Type == TypeApplication && p.FileName != "" {
			c.Ref = "file:" + p.FileName
		}
		if s, ok := strings.CutPrefix(p.Supplier, "Organization: "); ok {
			c.Supplier = s
		} else if s, ok := strings.CutPrefix(p.Supplier, "Person: "); ok {
			c.Supplier = s
		}
		for _, h := range p.Checksums {
			if c.Hashes == nil {
				c.Hashes = map[string]string{}
			}
			a := spdxAlg[h.Algorithm]
			if a == "" {
				a = h.Algorithm
			}
			c.Hashes[a] = strings.ToLower(h.Value)
		}
		if p.ValidUntil != "" {
			c.EndOfSupport, _, _ = strings.Cut(p.ValidUntil, "T")
		}
		if lvl, ok := strings.CutPrefix(p.Comment, PropSupportLevel+"="); ok {
			c.SupportLevel = lvl
		}
		refOf[p.SPDXID] = c.Ref
		byID[p.SPDXID] = c
	}
	described := ""
	for _, r := range in.Relationships {
		switch r.Type {
		case "DESCRIBES":
			if described == "" {
				described = r.B
			}
		case "DEPENDS_ON", "CONTAINS", "DYNAMIC_LINK", "STATIC_LINK":
			a, b := refOf[r.A], refOf[r.B]
			if a != "" && b != "" {
				d.Dependencies[a] = append(d.Dependencies[a], b)
			}
		}
	}
	for _, p := range in.Packages {
		if p.SPDXID == described {
			d.Product = byID[p.SPDXID]
			continue
		}
		d.Components = append(d.Components, byID[p.SPDXID])
	}
	d.normalize()
	return d, nil
}
