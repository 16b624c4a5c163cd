package vuln

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// DB is an offline OSV database: every record of one or more feeds, indexed
// by package for matching. A DB is immutable after Open and safe for
// concurrent use.
type DB struct {
	records   map[string]*Record // by id, withdrawn ones included
	index     map[pkgKey][]*entry
	group     map[string]string // any id or alias → canonical id of its alias group
	members   map[string][]string
	withdrawn int
}

// pkgKey is a package in an ecosystem without release ("Debian", not
// "Debian:12").
type pkgKey struct{ ecosystem, name string }

// Open reads every OSV record (*.json) below each path: a directory (walked
// recursively) or a zip file, the form in which OSV feeds are published.
// Any unreadable or invalid record fails the whole open, naming the file:
// a record silently skipped is a vulnerability silently missed.
func Open(paths ...string) (*DB, error) {
	var recs []*Record
	for _, p := range paths {
		rs, err := readSource(p)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rs...)
	}
	return build(recs)
}

// New builds a DB from records already read.
func New(recs []*Record) (*DB, error) { return build(recs) }

func readSource(path string) ([]*Record, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open osv database: %w", err)
	}
	if !fi.IsDir() {
		if !strings.HasSuffix(path, ".zip") {
			return nil, fmt.Errorf("open osv database %s: neither a directory nor a .zip file", path)
		}
		return readZip(path)
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open osv database %s: %w", path, err)
	}
	return parallelParse(files, func(name string) ([]byte, error) {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, MaxRecordSize+1))
	})
}

func readZip(path string) ([]*Record, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("open osv database %s: %w", path, err)
	}
	defer zr.Close()
	byName := map[string]*zip.File{}
	var names []string
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".json") && !f.FileInfo().IsDir() {
			byName[f.Name] = f
			names = append(names, f.Name)
		}
	}
	recs, err := parallelParse(names, func(name string) ([]byte, error) {
		f := byName[name]
		if f.UncompressedSize64 > MaxRecordSize {
			return nil, fmt.Errorf("%d bytes exceeds the limit of %d", f.UncompressedSize64, MaxRecordSize)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, MaxRecordSize+1))
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}

// parallelParse reads and parses names on every CPU; the first error (in
// name order) wins.
func parallelParse(names []string, read func(string) ([]byte, error)) ([]*Record, error) {
	sort.Strings(names)
	recs := make([]*Record, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				data, err := read(names[i])
				if err != nil {
					errs[i] = fmt.Errorf("read osv record %s: %w", names[i], err)
					continue
				}
				recs[i], errs[i] = ParseRecord(names[i], data)
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return recs, nil
}

func build(recs []*Record) (*DB, error) {
	db := &DB{
		records: map[string]*Record{},
		index:   map[pkgKey][]*entry{},
		group:   map[string]string{},
		members: map[string][]string{},
	}
	for _, r := range recs {
		if old, dup := db.records[r.ID]; dup && old.Modified.After(r.Modified) {
			continue
		}
		db.records[r.ID] = r
	}
	ids := make([]string, 0, len(db.records))
	for id := range db.records {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := db.records[id]
		if r.Withdrawn != nil {
			db.withdrawn++
			continue
		}
		for i := range r.Affected {
			e, err := compileEntry(r, &r.Affected[i])
			if err != nil {
				return nil, fmt.Errorf("osv record %s: affected[%d]: %w", r.ID, i, err)
			}
			if e == nil {
				continue
			}
			db.index[e.key] = append(db.index[e.key], e)
		}
	}
	db.buildGroups(ids)
	return db, nil
}

// buildGroups merges ids that name the same vulnerability (a record's id
// and its aliases, transitively) and picks for each group the lowest
// record id as its canonical name.
func (db *DB) buildGroups(ids []string) {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		p, ok := parent[x]
		if !ok || p == x {
			parent[x] = x
			return x
		}
		root := find(p)
		parent[x] = root
		return root
	}
	for _, id := range ids {
		r := db.records[id]
		if r.Withdrawn != nil {
			continue
		}
		for _, a := range r.Aliases {
			ra, rb := find(id), find(a)
			if ra != rb {
				parent[rb] = ra
			}
		}
		find(id)
	}
	canon := map[string]string{}
	for _, id := range ids { // sorted: the first record id seen is the lowest
		if db.records[id].Withdrawn != nil {
			continue
		}
		if _, ok := canon[find(id)]; !ok {
			canon[find(id)] = id
		}
	}
	for x := range parent {
		c, ok := canon[find(x)]
		if !ok {
			continue
		}
		db.group[x] = c
		db.members[c] = append(db.members[c], x)
	}
	for c := range db.members {
		sort.Strings(db.members[c])
	}
}

// Len returns the number of records, withdrawn ones included.
func (db *DB) Len() int { return len(db.records) }

// Withdrawn returns how many records are withdrawn (and never matched).
func (db *DB) Withdrawn() int { return db.withdrawn }

// Record returns the record with id, if any.
func (db *DB) Record(id string) (*Record, bool) {
	r, ok := db.records[id]
	return r, ok
}

// Aliases returns every id of the vulnerability named id, canonical first.
func (db *DB) Aliases(id string) []string {
	c, ok := db.group[id]
	if !ok {
		return []string{id}
	}
	out := []string{c}
	for _, m := range db.members[c] {
		if m != c {
			out = append(out, m)
		}
	}
	return out
}
