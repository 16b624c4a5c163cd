package config

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const goodDestination = `
[[forward.destinations]]
name = "siem-a"
address = "siem.hospital.example:6514"
ca_file = "/etc/medguard/siem-ca.pem"
`

func TestForwardDestinations(t *testing.T) {
	c, err := Parse("m.toml", []byte(goodDestination+`
[[forward.destinations]]
name = "arcsight"
address = "10.1.2.3:6514"
format = "cef"
ca_file = "/etc/medguard/arcsight-ca.pem"
server_name = "arcsight.hospital.example"
min_tls_version = "1.2"
client_certificate = true
`))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Forward.Destinations
	if len(d) != 2 || d[0].Format != "rfc5424" || d[0].MinTLSVersion != "1.3" || d[1].Format != "cef" ||
		d[1].MinTLSVersion != "1.2" || !d[1].ClientCertificate || d[1].ServerName != "arcsight.hospital.example" {
		t.Fatalf("destinations = %+v", d)
	}
	var b bytes.Buffer
	if err := WriteDocumented(&b, Default()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "[forward]") || !strings.Contains(b.String(), "[notify]") {
		t.Errorf("printed defaults lack [forward] or [notify]:\n%s", b.String())
	}
}

func TestForwardAndNotifyRules(t *testing.T) {
	tests := []struct{ name, doc, key string }{
		{"facility", "[forward]\nfacility = 24\n", "forward.facility"},
		{"bad name", strings.Replace(goodDestination, "siem-a", "SIEM A", 1), "forward.destinations.name"},
		{"duplicate name", goodDestination + goodDestination, "forward.destinations.name"},
		{"no port", strings.Replace(goodDestination, ":6514", "", 1), "forward.destinations.address"},
		{"no CA", strings.Replace(goodDestination, `ca_file = "/etc/medguard/siem-ca.pem"`, "", 1), "forward.destinations.ca_file"},
		{"relative CA", strings.Replace(goodDestination, `"/etc/`, `"etc/`, 1), "forward.destinations.ca_file"},
		{"format", goodDestination + "format = \"leef\"\n", "forward.destinations.format"},
		{"TLS 1.1", goodDestination + "min_tls_version = \"1.1\"\n", "forward.destinations.min_tls_version"},
		{"unknown key", goodDestination + "password = \"x\"\n", "forward.destinations.password"},
		{"inbox", "[notify]\ninbox_size = 10\n", "notify.inbox_size"},
		{"streams", "[notify]\nstream_clients = 0\n", "notify.stream_clients"},
		{"replay", "[notify]\nreplay_events = -1\n", "notify.replay_events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("m.toml", []byte(tt.doc))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FieldError", err)
			}
			if fe.Key != tt.key {
				t.Errorf("key = %q, want %q (%v)", fe.Key, tt.key, err)
			}
		})
	}
}
