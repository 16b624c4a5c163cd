package sbom

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/package-url/packageurl-go"
)

// MaxDpkgStatusSize bounds the dpkg status file read (a full desktop system
// has a few MiB).
const MaxDpkgStatusSize = 64 << 20

// DpkgPackage is one installed package of a dpkg status file.
type DpkgPackage struct {
	Name, Version, Arch, Source, SourceVersion, Maintainer string
}

// ReadDpkgStatus reads the installed packages of a dpkg status file.
func ReadDpkgStatus(path string) ([]DpkgPackage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read dpkg status: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxDpkgStatusSize+1))
	if err != nil {
		return nil, fmt.Errorf("read dpkg status %s: %w", path, err)
	}
	if len(data) > MaxDpkgStatusSize {
		return nil, fmt.Errorf("read dpkg status %s: larger than %d bytes", path, MaxDpkgStatusSize)
	}
	pkgs, err := ParseDpkgStatus(data)
	if err != nil {
		return nil, fmt.Errorf("read dpkg status %s: %w", path, err)
	}
	return pkgs, nil
}

// ParseDpkgStatus parses the stanzas of a dpkg status file (deb822) and
// returns the packages whose status is "install ok installed".
func ParseDpkgStatus(data []byte) ([]DpkgPackage, error) {
	var out []DpkgPackage
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	fields := map[string]string{}
	line, start := 0, 1
	last := ""
	flush := func() error {
		defer func() { fields = map[string]string{}; last = "" }()
		if len(fields) == 0 {
			return nil
		}
		if fields["Package"] == "" {
			return fmt.Errorf("stanza at line %d: no Package field", start)
		}
		if !strings.HasSuffix(fields["Status"], " installed") {
			return nil
		}
		p := DpkgPackage{Name: fields["Package"], Version: fields["Version"], Arch: fields["Architecture"], Maintainer: fields["Maintainer"]}
		if p.Version == "" {
			return fmt.Errorf("package %s (line %d): no Version field", p.Name, start)
		}
		if src := fields["Source"]; src != "" {
			// "Source: openssl (3.0.11-1)" gives the source version when it differs.
			name, ver, _ := strings.Cut(src, " ")
			p.Source = name
			p.SourceVersion = strings.Trim(ver, "() ")
		}
		out = append(out, p)
		return nil
	}
	for sc.Scan() {
		line++
		l := sc.Text()
		if strings.TrimSpace(l) == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			start = line + 1
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			if last == "" {
				return nil, fmt.Errorf("line %d: continuation line without a field", line)
			}
			continue // multi-line values (Description, Conffiles) are not needed
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: not a field", line)
		}
		last = k
		fields[k] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// component turns a package into an SBOM component; distro is e.g.
// "debian-12".
func (p DpkgPackage) component(distro string) Component {
	q := map[string]string{}
	if p.Arch != "" {
		q["arch"] = p.Arch
	}
	if distro != "" {
		q["distro"] = distro
	}
	if p.Source != "" && p.Source != p.Name {
		q["upstream"] = p.Source
	}
	purl := packageurl.NewPackageURL("deb", "debian", p.Name, p.Version, packageurl.QualifiersFromMap(q), "").ToString()
	sup := p.Maintainer
	if i := strings.IndexByte(sup, '<'); i > 0 {
		sup = strings.TrimSpace(sup[:i])
	}
	return Component{Ref: purl, Type: TypeOSPackage, Name: p.Name, Version: p.Version, PURL: purl, Supplier: sup}
}
