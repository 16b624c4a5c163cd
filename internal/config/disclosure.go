package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Disclosure is the [disclosure] table: how security researchers reach the
// device maker. The device serves it as an RFC 9116 security.txt at
// https://DEVICE/.well-known/security.txt (docs/identify.md).
type Disclosure struct {
	Contact            []string `toml:"contact" doc:"How to report a vulnerability in this device, most preferred first: \"mailto:\", \"https:\" or \"tel:\" URIs of the maker's product security team. Empty: the device serves no security.txt. Default: []."`
	Policy             string   `toml:"policy" doc:"https URL of the maker's coordinated vulnerability disclosure policy. Default: none."`
	Encryption         string   `toml:"encryption" doc:"https URL of the product security team's OpenPGP key. Default: none."`
	CSAF               string   `toml:"csaf" doc:"https URL of the maker's CSAF provider-metadata.json, where the device's security advisories are published. Default: none."`
	PreferredLanguages string   `toml:"preferred_languages" doc:"Languages the team reads, e.g. \"en, de\". Default: en."`
	ValidFor           Duration `toml:"valid_for" doc:"The served file's Expires field is this far ahead of the device's clock (RFC 9116 asks for less than a year). 24h to 8760h. Default: 2160h (90 days)."`
}

func defaultDisclosure() Disclosure {
	return Disclosure{Contact: []string{}, PreferredLanguages: "en", ValidFor: Duration(90 * 24 * time.Hour)}
}

func (d *Disclosure) validate() []FieldError {
	var errs []FieldError
	for i, c := range d.Contact {
		u, err := url.Parse(c)
		if err != nil || (u.Scheme != "mailto" && u.Scheme != "https" && u.Scheme != "tel") || (u.Opaque == "" && u.Host == "") {
			errs = append(errs, FieldError{Key: "disclosure.contact", Msg: fmt.Sprintf("entry %d (%q) is not a mailto:, https: or tel: URI", i+1, c)})
		}
	}
	for _, f := range []struct{ key, v string }{{"disclosure.policy", d.Policy}, {"disclosure.encryption", d.Encryption}, {"disclosure.csaf", d.CSAF}} {
		if f.v == "" {
			continue
		}
		if u, err := url.Parse(f.v); err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, FieldError{Key: f.key, Msg: fmt.Sprintf("%q is not an https URL", f.v)})
		}
	}
	if strings.ContainsAny(d.PreferredLanguages, "\r\n") {
		errs = append(errs, FieldError{Key: "disclosure.preferred_languages", Msg: "must be one line"})
	}
	return append(errs, inRange("disclosure.valid_for", d.ValidFor, Duration(24*time.Hour), Duration(8760*time.Hour))...)
}
