package disclosure

import (
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func TestSecurityTxt(t *testing.T) {
	o := SecurityTxtOptions{
		Contact: []string{"mailto:psirt@acme.example", "https://acme.example/report"},
		Expires: now.AddDate(0, 6, 0), Policy: []string{"https://acme.example/security-policy"},
		Canonical: []string{"https://monitor.acme.example/.well-known/security.txt"},
		CSAF:      []string{"https://acme.example/.well-known/csaf/provider-metadata.json"}, PreferredLanguages: "en, de",
	}
	txt, err := SecurityTxt(o, now)
	if err != nil {
		t.Fatal(err)
	}
	f, err := SecurityTxtFields(txt)
	if err != nil {
		t.Fatal(err)
	}
	if len(f["contact"]) != 2 || f["expires"][0] != "2027-06-03T12:00:00Z" || f["csaf"][0] == "" || f["preferred-languages"][0] != "en, de" {
		t.Errorf("fields = %v", f)
	}
	bad := []func(*SecurityTxtOptions){
		func(o *SecurityTxtOptions) { o.Contact = nil },
		func(o *SecurityTxtOptions) { o.Contact = []string{"http://acme.example/report"} }, // not https
		func(o *SecurityTxtOptions) { o.Expires = now.Add(-time.Hour) },
		func(o *SecurityTxtOptions) { o.Expires = now.AddDate(2, 0, 0) },
		func(o *SecurityTxtOptions) {
			o.Policy = []string{"https://acme.example/p\nContact: mailto:evil@example.org"}
		}, // header injection
		func(o *SecurityTxtOptions) { o.PreferredLanguages = "en\r\nContact: mailto:evil@example.org" },
		func(o *SecurityTxtOptions) { o.Canonical = []string{"https:///nohost"} },
	}
	for i, f := range bad {
		c := o
		f(&c)
		if txt, err := SecurityTxt(c, now); err == nil {
			t.Errorf("case %d accepted:\n%s", i, txt)
		}
	}
	for _, bad := range []string{"Expires: 2030-01-01T00:00:00Z\n", "Contact: mailto:a@b\n", "Contact: mailto:a@b\nExpires: 2030-01-01T00:00:00Z\nExpires: 2031-01-01T00:00:00Z\n", "Contact mailto\n"} {
		if _, err := SecurityTxtFields(bad); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
	if !strings.HasSuffix(txt, "\n") {
		t.Error("no final newline")
	}
}
