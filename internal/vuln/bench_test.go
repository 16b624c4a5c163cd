package vuln

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/sbom"
)

// benchSBOMs makes n CycloneDX SBOMs of size components each: the Go
// standard library and modules drawn from the packages the database knows
// (so that matching does real range work), at a spread of versions.
func benchSBOMs(b *testing.B, db *DB, n, size int) [][]byte {
	var mods []string
	for k := range db.index {
		if k.ecosystem == "Go" && k.name != "stdlib" && k.name != "toolchain" {
			mods = append(mods, k.name)
		}
	}
	sort.Strings(mods)
	versions := []string{"v0.0.0-20210101000000-abcdefabcdef", "v0.1.0", "v0.9.3", "v1.0.0", "v1.4.2", "v1.12.0", "v2.3.1+incompatible", "v3.0.0-rc.1"}
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		d := release(fmt.Sprintf("1.%d.0", i), sbom.GoPURL("stdlib", fmt.Sprintf("go1.%d.%d", 18+rng.IntN(8), rng.IntN(10))))
		for range size - 1 {
			m := mods[rng.IntN(len(mods))]
			d.Components = append(d.Components, sbom.Component{Ref: m, Type: sbom.TypeLibrary, Name: m, PURL: sbom.GoPURL(m, versions[rng.IntN(len(versions))]), Supplier: "x"})
		}
		d.Timestamp = time.Unix(0, 0)
		data, err := sbom.CycloneDXBytes(d)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = data
	}
	return out
}

// BenchmarkScan1000x200 is the target: open the whole Go database
// from disk, read 1,000 SBOMs of 200 components and match every component.
func BenchmarkScan1000x200(b *testing.B) {
	db := openGoDB(b)
	docs := benchSBOMs(b, db, 1000, 200)
	findings := 0
	b.ResetTimer()
	for b.Loop() {
		db, err := Open(goDBDir)
		if err != nil {
			b.Fatal(err)
		}
		named := make([]NamedDocument, len(docs))
		for i, data := range docs {
			d, err := sbom.Read(data)
			if err != nil {
				b.Fatal(err)
			}
			named[i] = NamedDocument{Name: fmt.Sprint(i), Doc: d}
		}
		findings = 0
		for _, r := range db.Scan(named) {
			findings += len(r.Findings)
		}
	}
	b.ReportMetric(float64(findings), "findings")
}

// BenchmarkDecodeGoDB is the physical floor of the scan: reading every file
// of the database and a bare encoding/json decode of each, nothing else.
func BenchmarkDecodeGoDB(b *testing.B) {
	if _, err := os.Stat(goDBDir); err != nil {
		b.Skip("no Go database")
	}
	files, _ := filepath.Glob(filepath.Join(goDBDir, "*.json"))
	for b.Loop() {
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	}
}
