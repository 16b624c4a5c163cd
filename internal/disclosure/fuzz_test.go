package disclosure

import (
	"testing"
	"time"
)

// FuzzSecurityTxtFields: security.txt files are read from other devices
// and makers; what parses has a Contact and exactly one valid Expires.
func FuzzSecurityTxtFields(f *testing.F) {
	txt, err := SecurityTxt(SecurityTxtOptions{Contact: []string{"mailto:psirt@acme.example"}, Expires: now.AddDate(0, 6, 0),
		Policy: []string{"https://acme.example/security"}, PreferredLanguages: "en"}, now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(txt)
	f.Add("Contact: mailto:a@b.example\nExpires: 2030-01-01T00:00:00Z\n# c\n")
	f.Fuzz(func(t *testing.T, s string) {
		fs, err := SecurityTxtFields(s)
		if err != nil {
			return
		}
		if len(fs["contact"]) == 0 || len(fs["expires"]) != 1 {
			t.Fatalf("accepted %v", fs)
		}
		if _, err := time.Parse(time.RFC3339, fs["expires"][0]); err != nil {
			t.Fatalf("accepted Expires %q", fs["expires"][0])
		}
	})
}
