package integrity

import (
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// FindingKind is what is wrong with a path of the software root.
type FindingKind string

// The kinds of finding. Each maps to an event code "integrity.<kind>".
const (
	FindingMissing            FindingKind = "file.missing"             // a listed file is gone
	FindingChanged            FindingKind = "file.changed"             // content, size or type differ
	FindingMode               FindingKind = "file.mode"                // permission bits differ
	FindingOwner              FindingKind = "file.owner"               // uid or gid differ
	FindingSetuid             FindingKind = "file.setuid"              // a setuid/setgid bit the manifest does not have
	FindingHardlink           FindingKind = "file.hardlink"            // the inode has other names (possibly outside the root)
	FindingEscape             FindingKind = "path.escape"              // a path passes through a symlink or leaves the root
	FindingUnreadable         FindingKind = "path.unreadable"          // an unlisted path that cannot be read, so not checked
	FindingUnlistedExecutable FindingKind = "file.unlisted-executable" // an executable the manifest does not list
	FindingUnlisted           FindingKind = "file.unlisted"            // any other unlisted file
)

// Finding is one problem found in the software root.
type Finding struct {
	Kind FindingKind `json:"kind"`
	// Path is relative to the software root.
	Path string `json:"path"`
	// FileKind is the listed kind of the file, if it is listed.
	FileKind Kind `json:"file_kind,omitempty"`
	// Detail says what differs ("sha256 ab12…, want cd34…").
	Detail string `json:"detail"`
	// Detected is when the check found it; Via is how ("boot",
	// "inotify", "rehash").
	Detected time.Time `json:"detected"`
	Via      string    `json:"via"`
	// Changed is the inode's change time, when known: Detected minus
	// Changed is the detection latency.
	Changed time.Time `json:"changed,omitzero"`
}

// Critical reports whether the finding makes the device not suitable for
// clinical use. Everything is critical except an unlisted file that is not
// executable (it cannot run; it is reported as a warning).
func (f Finding) Critical() bool { return f.Kind != FindingUnlisted }

// Code is the event code of the finding.
func (f Finding) Code() string { return "integrity." + string(f.Kind) }

// Severity is the event severity of the finding.
func (f Finding) Severity() eventlog.Severity {
	if f.Critical() {
		return eventlog.SeverityCritical
	}
	return eventlog.SeverityWarning
}

// Cause says, for a person, why the finding matters.
func (f Finding) Cause() string {
	return fmt.Sprintf("software integrity: %s %s: %s", f.Path, describe(f.Kind), f.Detail)
}

func describe(k FindingKind) string {
	switch k {
	case FindingMissing:
		return "is missing"
	case FindingChanged:
		return "was changed"
	case FindingMode:
		return "has other permissions"
	case FindingOwner:
		return "has another owner"
	case FindingSetuid:
		return "gained a setuid/setgid bit"
	case FindingHardlink:
		return "is hard-linked"
	case FindingEscape:
		return "escapes the software root"
	case FindingUnreadable:
		return "cannot be read, so what it holds cannot be checked"
	case FindingUnlistedExecutable:
		return "is an executable not in the signed manifest"
	default:
		return "is not in the signed manifest"
	}
}

// Report is the result of one verification of the software root.
type Report struct {
	Product         string    `json:"product"`
	Version         string    `json:"version"`
	SecurityVersion uint64    `json:"security_version"`
	Signers         []string  `json:"signers"`
	Files           int       `json:"files"`
	Bytes           int64     `json:"bytes"`
	Started         time.Time `json:"started"`
	Duration        Duration  `json:"duration"`
	Findings        []Finding `json:"findings"`
}

// OK reports whether the report has no critical finding.
func (r *Report) OK() bool {
	for _, f := range r.Findings {
		if f.Critical() {
			return false
		}
	}
	return true
}

// FirstCritical returns the first critical finding, if any.
func (r *Report) FirstCritical() (Finding, bool) {
	for _, f := range r.Findings {
		if f.Critical() {
			return f, true
		}
	}
	return Finding{}, false
}

// Duration is a time.Duration that marshals as a string ("1.2s").
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}
