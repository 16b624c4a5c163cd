package config

import (
	"path/filepath"
	"regexp"
)

// Device is the [device] table.
type Device struct {
	Name     string `toml:"name" doc:"The device's name as the hospital knows it: shown in the console, sent in every SIEM message, and refused as part of any password. 1 to 63 letters, digits, '-' and '.'. Default: medguard-device."`
	StateDir string `toml:"state_dir" doc:"Directory of the device's state: key store, event log, state database. Nothing outside it and the software root is written. An absolute path. Default: /var/lib/medguard."`
}

func defaultDevice() Device {
	return Device{Name: "medguard-device", StateDir: "/var/lib/medguard"}
}

var deviceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$`)

func (d *Device) validate() []FieldError {
	var errs []FieldError
	if !deviceName.MatchString(d.Name) {
		errs = append(errs, FieldError{Key: "device.name", Msg: "must be 1 to 63 letters, digits, '-' and '.', starting with a letter or digit"})
	}
	if !filepath.IsAbs(d.StateDir) {
		errs = append(errs, FieldError{Key: "device.state_dir", Msg: "must be an absolute path"})
	}
	return errs
}
