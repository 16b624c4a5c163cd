package mds2

import "testing"

func FuzzParseCatalogue(f *testing.F) {
	f.Add(sectionsTSV, questionsTSV)
	f.Add([]byte("DOC\tAbout\n"), []byte("DOC-1\t\tq\nDOC-1.1\tDOC-1\tr\n"))
	f.Fuzz(func(t *testing.T, secs, qs []byte) {
		c, err := parseCatalogue(secs, qs)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, q := range c.Questions {
			if seen[q.ID] || q.Text == "" || (q.Parent != "" && !seen[q.Parent]) {
				t.Fatalf("accepted a bad catalogue: %+v", q)
			}
			seen[q.ID] = true
		}
	})
}
