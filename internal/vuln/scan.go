package vuln

import (
	"runtime"
	"sync"

	"github.com/medguard/medguard/internal/sbom"
)

// Result is what one SBOM's scan found.
type Result struct {
	SBOM     string    `json:"sbom"`    // where the SBOM came from (file name)
	Product  string    `json:"product"` // product package URL
	Findings []Finding `json:"findings"`
	// Unchecked names components that could not be matched: no package
	// URL, no version, or a package URL that does not parse. A scan that
	// checked nothing must not look clean.
	Unchecked []Unchecked `json:"unchecked,omitempty"`
}

// Unchecked is a component the scan could not match, and why.
type Unchecked struct {
	Component string `json:"component"`
	Reason    string `json:"reason"`
}

// ScanDocument matches every component of d.
func (db *DB) ScanDocument(name string, d *sbom.Document) Result {
	return db.scanDocument(name, d, db.Match)
}

// matchCache remembers the findings of each package URL during one Scan:
// the same module version recurs across a product's releases.
type matchCache struct {
	db *DB
	mu sync.Mutex // guards m
	m  map[string]cached
}

type cached struct {
	fs  []Finding
	err error
}

func (c *matchCache) match(purl string) ([]Finding, error) {
	c.mu.Lock()
	r, ok := c.m[purl]
	c.mu.Unlock()
	if ok {
		return r.fs, r.err
	}
	fs, err := c.db.Match(purl)
	c.mu.Lock()
	c.m[purl] = cached{fs, err}
	c.mu.Unlock()
	return fs, err
}

func (db *DB) scanDocument(name string, d *sbom.Document, match func(string) ([]Finding, error)) Result {
	res := Result{SBOM: name, Product: d.Product.PURL, Findings: []Finding{}}
	for _, c := range d.Components {
		if c.PURL == "" {
			res.Unchecked = append(res.Unchecked, Unchecked{c.Ref, "no package URL"})
			continue
		}
		fs, err := match(c.PURL)
		if err != nil {
			res.Unchecked = append(res.Unchecked, Unchecked{c.Ref, err.Error()})
			continue
		}
		res.Findings = append(res.Findings, fs...)
	}
	return res
}

// NamedDocument is an SBOM with the name it is reported under.
type NamedDocument struct {
	Name string
	Doc  *sbom.Document
}

// Scan matches many SBOMs on every CPU; results keep the order of docs.
func (db *DB) Scan(docs []NamedDocument) []Result {
	out := make([]Result, len(docs))
	cache := &matchCache{db: db, m: map[string]cached{}}
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = db.scanDocument(docs[i].Name, docs[i].Doc, cache.match)
			}
		}()
	}
	for i := range docs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}
