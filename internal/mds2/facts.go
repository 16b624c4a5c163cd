package mds2

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/sbom"
)

// Facts are what the form is filled from.
type Facts struct {
	// Config is the device configuration (config.Default() or
	// config.Load(path)); ConfigSource says which ("defaults" or the path).
	Config       config.Config
	ConfigSource string
	// SBOM is the release SBOM, nil if none was given.
	SBOM     *sbom.Document
	SBOMFile string
	// Features are the parts of medguard built into the device
	// (DefaultFeatures for a full medguard build).
	Features []Feature
	// DocumentID and Now identify this statement.
	DocumentID string
	Now        time.Time
}

// Feature is a capability of the build, with where it is implemented and
// documented: the evidence for an answer that no configuration key shows.
type Feature struct {
	Name    string `json:"name"`    // e.g. "eventlog"
	Package string `json:"package"` // e.g. "internal/eventlog"
	Doc     string `json:"doc"`     // e.g. "docs/eventlog.md"
	What    string `json:"what"`    // one line
}

// DefaultFeatures are medguard's parts as the daemon wires them
// (ARCHITECTURE.md). A test checks that each package exists with code.
func DefaultFeatures() []Feature {
	return []Feature{
		{"eventlog", "internal/eventlog", "docs/eventlog.md", "tamper-evident security event log: HMAC chain, signed checkpoints, actor and UTC time in every event"},
		{"auth", "internal/auth", "docs/auth.md", "named accounts with roles, no default password, argon2id hashes, throttled guessing, session idle and absolute timeouts"},
		{"api", "internal/api", "docs/api.md", "HTTPS API and console, TLS 1.3 only, every request authenticated and authorised by role"},
		{"integrity", "internal/integrity", "docs/integrity.md", "signed software manifest verified at boot and run time; only listed executables start"},
		{"forward", "internal/forward", "docs/forward.md", "forwarding of security events to SIEMs over TLS (RFC 5424/5425, CEF)"},
		{"notify", "internal/notify", "docs/notify.md", "notifications with cause and recommended action"},
		{"keystore", "internal/keystore", "docs/keys.md", "device secrets sealed by the TPM or a key-encryption key"},
		{"sbom", "internal/sbom", "docs/identify.md", "signed CycloneDX 1.6 and SPDX 2.3 SBOM of each release"},
		{"vuln", "internal/vuln", "docs/identify.md", "daily matching of every released product against published vulnerabilities"},
		{"advisory", "internal/advisory", "docs/identify.md", "CSAF 2.0 and VEX advisories; coordinated disclosure (SECURITY.md, security.txt)"},
	}
}

func (f *Facts) feature(name string) (Feature, bool) {
	for _, x := range f.Features {
		if x.Name == name {
			return x, true
		}
	}
	return Feature{}, false
}

// ConfigValue returns the value of a dotted configuration key
// ("auth.session_idle_timeout") by following the toml tags of
// config.Config, and whether the key exists in this build.
func ConfigValue(c *config.Config, key string) (any, bool) {
	v := reflect.ValueOf(c).Elem()
	for _, part := range strings.Split(key, ".") {
		if v.Kind() != reflect.Struct {
			return nil, false
		}
		found := false
		for i := range v.NumField() {
			tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("toml"), ",")
			if tag == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return v.Interface(), true
}

// show formats a configuration value as it is written in the file.
func show(v any) string {
	switch x := v.(type) {
	case config.Duration:
		return time.Duration(x).String()
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v)
}
