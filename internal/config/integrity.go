package config

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
)

// Integrity is the [integrity] table: the signed software manifest and its
// checks (docs/integrity.md).
type Integrity struct {
	SoftwareRoot  string   `toml:"software_root" doc:"The software root: every executable, library and static configuration file of the device's software lives below it and is listed in the signed manifest; nothing else under it may run. An absolute path. Default: /opt/medguard/software."`
	Manifest      string   `toml:"manifest" doc:"The signed manifest of the software root (a DSSE envelope written by 'medguard release manifest'). An absolute path outside the software root. Default: /opt/medguard/manifest.dsse.json."`
	TrustedKeys   []string `toml:"trusted_keys" doc:"The device maker's release public keys ('medguard-ed25519:…', as 'medguard release keygen' prints them). A manifest must be signed by at least threshold of them. Empty: no manifest verifies, and the device does not start its clinical application. Default: []."`
	Threshold     int      `toml:"threshold" doc:"How many distinct trusted keys must have signed a manifest (e.g. 2 of 3). 1 to 16, and at most the number of trusted keys. Default: 1."`
	Programs      string   `toml:"programs" doc:"The supervisor's program list (programs, arguments, environment, restart policy), relative to the software root; it is signed configuration and must be listed in the manifest. Default: etc/supervisor.toml."`
	HashWorkers   int      `toml:"hash_workers" doc:"Files hashed in parallel at boot; 0 means one per CPU. 0 to 64. Default: 0."`
	RehashPercent float64  `toml:"rehash_percent" doc:"Share of one CPU core, in percent, that the continuous re-hash of the software root may use on average (it finds changes the file watcher missed, within about two passes). 0.1 to 100. Default: 2."`
}

func defaultIntegrity() Integrity {
	return Integrity{
		SoftwareRoot: "/opt/medguard/software", Manifest: "/opt/medguard/manifest.dsse.json",
		TrustedKeys: []string{}, Threshold: 1, Programs: "etc/supervisor.toml", RehashPercent: 2,
	}
}

func (c *Integrity) validate() []FieldError {
	var errs []FieldError
	if !filepath.IsAbs(c.SoftwareRoot) || filepath.Clean(c.SoftwareRoot) == "/" {
		errs = append(errs, FieldError{Key: "integrity.software_root", Msg: "must be an absolute path other than /"})
	}
	if !filepath.IsAbs(c.Manifest) {
		errs = append(errs, FieldError{Key: "integrity.manifest", Msg: "must be an absolute path"})
	} else if rel, err := filepath.Rel(c.SoftwareRoot, c.Manifest); err == nil && !strings.HasPrefix(rel, "..") {
		errs = append(errs, FieldError{Key: "integrity.manifest", Msg: "must be outside software_root"})
	}
	for i, k := range c.TrustedKeys {
		if !validReleaseKey(k) {
			errs = append(errs, FieldError{Key: "integrity.trusted_keys", Msg: fmt.Sprintf("entry %d is not a release public key (want medguard-ed25519:BASE64 of 32 bytes)", i+1)})
		}
	}
	errs = append(errs, inRange("integrity.threshold", c.Threshold, 1, 16)...)
	if len(c.TrustedKeys) > 0 && c.Threshold > len(c.TrustedKeys) {
		errs = append(errs, FieldError{Key: "integrity.threshold", Msg: fmt.Sprintf("%d exceeds the %d trusted keys", c.Threshold, len(c.TrustedKeys))})
	}
	if c.Programs == "" || filepath.IsAbs(c.Programs) || filepath.Clean(c.Programs) != c.Programs || strings.HasPrefix(c.Programs, "..") {
		errs = append(errs, FieldError{Key: "integrity.programs", Msg: "must be a clean path relative to software_root"})
	}
	errs = append(errs, inRange("integrity.hash_workers", c.HashWorkers, 0, 64)...)
	errs = append(errs, inRange("integrity.rehash_percent", c.RehashPercent, 0.1, 100)...)
	return errs
}

// validReleaseKey checks the text form of a release public key (the same
// rule as integrity.ParsePublicKey, which the daemon applies again).
func validReleaseKey(k string) bool {
	rest, ok := strings.CutPrefix(k, "medguard-ed25519:")
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(rest)
	return err == nil && len(b) == 32
}
