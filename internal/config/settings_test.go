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

// The event log opens with the file's settings, in the state directory;
// an empty archive_dir means STATE_DIR/log-archive.
func TestEventLogFromFile(t *testing.T) {
	c := Default()
	c.Device.StateDir = "/var/lib/mg"
	c.Log.MaxSizeMiB = 3
	lc := c.EventLog(nil)
	if lc.Dir != "/var/lib/mg/log" || lc.ArchiveDir != "/var/lib/mg/log-archive" || lc.MaxBytes != 3<<20 ||
		lc.DeviceName != c.Device.Name || string(lc.Policy) != c.Log.Policy || lc.EpochEntries != uint64(c.Log.EpochEntries) ||
		lc.CheckpointInterval != c.Log.CheckpointInterval.D() || lc.FloodBurst != c.Log.FloodBurst {
		t.Errorf("event log config %+v", lc)
	}
	c.Log.ArchiveDir = "/mnt/usb/archive"
	if lc := c.EventLog(nil); lc.ArchiveDir != "/mnt/usb/archive" {
		t.Errorf("archive_dir ignored: %s", lc.ArchiveDir)
	}
}
