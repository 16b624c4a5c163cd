package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// A boot report that is not a list of checks is still printed for a
// person: sorted "key: value" lines, not a JSON blob.
func TestBootReportOtherShape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"manifest":"verified","count":3}`, "boot report:\n  count: 3\n  manifest: verified\n"},
		{`{"checks":[]}`, "boot report:\n  checks: []\n"},
		{`"just text\u001b[2J"`, "boot report: \"just text\\u001b[2J\"\n"},
	} {
		var b bytes.Buffer
		printBootReport(&b, json.RawMessage(tc.in))
		if b.String() != tc.want {
			t.Errorf("%s: got %q, want %q", tc.in, b.String(), tc.want)
		}
		if strings.Contains(b.String(), "\x1b") {
			t.Errorf("%s: control character printed", tc.in)
		}
	}
}
