package config

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
)

// Forward is the [forward] table: the SIEMs that receive the Security
// Event Log (docs/forwarding.md).
type Forward struct {
	Facility     int                  `toml:"facility" doc:"RFC 5424 facility of every message sent to a SIEM, 0 to 23. Default: 13 (log audit)."`
	Destinations []ForwardDestination `toml:"destinations" doc:"The SIEM receivers, each an array-of-tables entry [[forward.destinations]] with the keys: name (1 to 32 lower-case letters, digits and '-', unique; names the destination's cursor), address (HOST:PORT of a syslog-over-TLS receiver, RFC 5425; 6514 is the standard port), format (\"rfc5424\" or \"cef\"; default rfc5424), ca_file (absolute path of the PEM CA certificate(s) the receiver's certificate must chain to; required), server_name (the name the receiver's certificate must carry; default: the host of address), min_tls_version (\"1.3\" or \"1.2\"; default 1.3; 1.2 only for receivers without TLS 1.3, and recorded as a security event), client_certificate (true: present the device's TLS certificate to receivers that ask for one; default false). Every destination receives every entry of the log, oldest first, from its own persisted position. Default: none."`
}

// ForwardDestination is one [[forward.destinations]] entry.
type ForwardDestination struct {
	Name              string `toml:"name"`
	Address           string `toml:"address"`
	Format            string `toml:"format"`
	CAFile            string `toml:"ca_file"`
	ServerName        string `toml:"server_name"`
	MinTLSVersion     string `toml:"min_tls_version"`
	ClientCertificate bool   `toml:"client_certificate"`
}

func defaultForward() Forward {
	return Forward{Facility: 13, Destinations: []ForwardDestination{}}
}

var forwardName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

func (f *Forward) validate() []FieldError {
	errs := inRange("forward.facility", f.Facility, 0, 23)
	seen := map[string]bool{}
	for i := range f.Destinations {
		d := &f.Destinations[i]
		key := func(k string) string { return fmt.Sprintf("forward.destinations.%s", k) }
		bad := func(k, msg string) {
			errs = append(errs, FieldError{Key: key(k), Msg: fmt.Sprintf("destination %d: %s", i+1, msg)})
		}
		if d.Format == "" {
			d.Format = "rfc5424"
		}
		if d.MinTLSVersion == "" {
			d.MinTLSVersion = "1.3"
		}
		if !forwardName.MatchString(d.Name) {
			bad("name", fmt.Sprintf("%q: want 1 to 32 lower-case letters, digits and '-'", d.Name))
		} else if seen[d.Name] {
			bad("name", fmt.Sprintf("%q: used twice", d.Name))
		}
		seen[d.Name] = true
		if host, port, err := net.SplitHostPort(d.Address); err != nil || host == "" || port == "" {
			bad("address", fmt.Sprintf("%q: want HOST:PORT", d.Address))
		}
		if e := oneOf(key("format"), d.Format, "rfc5424", "cef"); e != nil {
			bad("format", e[0].Msg)
		}
		if !filepath.IsAbs(d.CAFile) {
			bad("ca_file", "must be an absolute path (the CA that verifies the receiver is required)")
		}
		if e := oneOf(key("min_tls_version"), d.MinTLSVersion, "1.3", "1.2"); e != nil {
			bad("min_tls_version", e[0].Msg)
		}
	}
	return errs
}
