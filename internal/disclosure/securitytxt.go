package disclosure

import (
	"bufio"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// SecurityTxtOptions are the fields of an RFC 9116 security.txt.
type SecurityTxtOptions struct {
	// Contact: how to report a vulnerability, most preferred first; each
	// a "mailto:", "https:" or "tel:" URI (RFC 9116 §2.5.3). Required.
	Contact []string
	// Expires: after this the file is stale (§2.5.5); should be less than
	// a year ahead. Required, and must be in the future.
	Expires time.Time
	// Encryption: https URL of the PSIRT's OpenPGP key (§2.5.4).
	Encryption []string
	// Policy: https URL of the disclosure policy (SECURITY.md) (§2.5.7).
	Policy []string
	// Acknowledgments: https URL of the thanks page (§2.5.1).
	Acknowledgments []string
	// PreferredLanguages: e.g. "en, de" (§2.5.8).
	PreferredLanguages string
	// Canonical: the https URLs where this file is published (§2.5.2).
	Canonical []string
	// CSAF: https URL of the maker's CSAF provider-metadata.json (CSAF 2.0
	// §7.1.8), where the advisories are found.
	CSAF []string
}

// SecurityTxt renders an RFC 9116 security.txt, checked: the device serves
// it at /.well-known/security.txt. now is the current time.
func SecurityTxt(o SecurityTxtOptions, now time.Time) (string, error) {
	if len(o.Contact) == 0 {
		return "", errors.New("security.txt: at least one Contact is required (RFC 9116 §2.5.3)")
	}
	if o.Expires.IsZero() || !o.Expires.After(now) {
		return "", errors.New("security.txt: Expires must be set and in the future (RFC 9116 §2.5.5)")
	}
	if o.Expires.After(now.AddDate(1, 0, 0)) {
		return "", errors.New("security.txt: Expires should be less than a year ahead (RFC 9116 §2.5.5)")
	}
	var b strings.Builder
	b.WriteString("# Security contact of this medical device's maker (RFC 9116).\n")
	b.WriteString("# See the Policy for how reports are handled.\n")
	field := func(name string, vals []string, schemes ...string) error {
		for _, v := range vals {
			if err := checkURI(name, v, schemes...); err != nil {
				return err
			}
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
		return nil
	}
	if err := field("Contact", o.Contact, "mailto", "https", "tel"); err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "Expires: %s\n", o.Expires.UTC().Format(time.RFC3339))
	for _, f := range []struct {
		name string
		vals []string
	}{{"Encryption", o.Encryption}, {"Policy", o.Policy}, {"Acknowledgments", o.Acknowledgments}, {"Canonical", o.Canonical}, {"CSAF", o.CSAF}} {
		if err := field(f.name, f.vals, "https"); err != nil {
			return "", err
		}
	}
	if o.PreferredLanguages != "" {
		if strings.ContainsAny(o.PreferredLanguages, "\r\n") {
			return "", errors.New("security.txt: Preferred-Languages contains a line break")
		}
		fmt.Fprintf(&b, "Preferred-Languages: %s\n", o.PreferredLanguages)
	}
	return b.String(), nil
}

func checkURI(field, v string, schemes ...string) error {
	if strings.ContainsAny(v, "\r\n \t") {
		return fmt.Errorf("security.txt: %s %q contains white space or a line break", field, v)
	}
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("security.txt: %s %q: %w", field, v, err)
	}
	for _, s := range schemes {
		if u.Scheme == s {
			if (s == "https") && u.Host == "" {
				return fmt.Errorf("security.txt: %s %q has no host", field, v)
			}
			return nil
		}
	}
	return fmt.Errorf("security.txt: %s %q must be a %s URI", field, v, strings.Join(schemes, ", "))
}

// SecurityTxtFields parses a security.txt (unsigned) into its fields, and
// checks the rules of RFC 9116 §2.5 that a reader relies on: Contact
// present, exactly one Expires. Comments and blank lines are skipped.
func SecurityTxtFields(text string) (map[string][]string, error) {
	if len(text) > 32<<10 {
		return nil, errors.New("security.txt: larger than 32 KiB")
	}
	out := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("security.txt line %d: not a field", n)
		}
		k = strings.ToLower(k)
		out[k] = append(out[k], strings.TrimSpace(v))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("security.txt: %w", err)
	}
	if len(out["contact"]) == 0 {
		return nil, errors.New("security.txt: no Contact field")
	}
	if len(out["expires"]) != 1 {
		return nil, fmt.Errorf("security.txt: %d Expires fields, want exactly one", len(out["expires"]))
	}
	if _, err := time.Parse(time.RFC3339, out["expires"][0]); err != nil {
		return nil, fmt.Errorf("security.txt: Expires: %w", err)
	}
	return out, nil
}
