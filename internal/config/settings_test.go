package config

import (
	"reflect"
	"testing"
)

// Settings names every key of the file once, and a change of one value
// changes exactly that key's entry.
func TestSettingsNamesWhatChanged(t *testing.T) {
	def, err := Settings(Default())
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"auth.min_password_length": "15",
		"device.name":              `"medguard-device"`,
		"forward.destinations":     "[]",
	} {
		if def[k] != want {
			t.Errorf("%s = %q, want %q", k, def[k], want)
		}
	}
	c := Default()
	c.Auth.MinPasswordLength = 12
	c.Forward.Destinations = []ForwardDestination{{Name: "siem", Address: "siem.example:6514", CAFile: "/etc/ca.pem"}}
	got, err := Settings(c)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, ch := range DiffSettings(def, got) {
		keys = append(keys, ch.Key)
		switch ch.Key {
		case "auth.min_password_length":
			if ch.Old != "15" || ch.New != "12" {
				t.Errorf("change %+v", ch)
			}
		case "forward.destinations":
			if ch.Old != "[]" || ch.New != "" {
				t.Errorf("change %+v", ch)
			}
		}
	}
	want := []string{
		"auth.min_password_length", "forward.destinations",
		"forward.destinations[0].address", "forward.destinations[0].ca_file", "forward.destinations[0].client_certificate",
		"forward.destinations[0].format", "forward.destinations[0].min_tls_version", "forward.destinations[0].name",
		"forward.destinations[0].server_name",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("changed keys = %q, want %q", keys, want)
	}
	if d := DiffSettings(got, got); len(d) != 0 {
		t.Errorf("no change listed as %v", d)
	}
}
