package device

import (
	"net/http/httptest"
	"testing"
)

// FuzzLogQuery feeds any query string to the parser of GET /v1/logs: it
// never panics, and a query it accepts is within the documented limits.
func FuzzLogQuery(f *testing.F) {
	for _, s := range []string{
		"", "from=1&to=10", "category=auth&category=integrity&severity=warning",
		"since=2026-12-03T10:00:00Z&until=2026-12-03T11:00:00.5Z", "limit=1000&cursor=abc",
		"limit=0", "from=-1", "category=nonsense", "severity=99", "actor=%00%ff", "since=yesterday",
		"limit=18446744073709551616", "a=b&&&=;", "%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/v1/logs", nil)
		r.URL.RawQuery = raw
		q, err := logQuery(r)
		if err != nil {
			return
		}
		if q.Limit < 0 || q.Limit > 1000 {
			t.Fatalf("limit %d accepted from %q", q.Limit, raw)
		}
		if len(q.Actor) > 256 || len(q.Cursor) > 256 {
			t.Fatalf("oversized actor or cursor accepted from %q", raw)
		}
		for _, c := range q.Categories {
			if !c.Valid() {
				t.Fatalf("category %q accepted from %q", c, raw)
			}
		}
	})
}
