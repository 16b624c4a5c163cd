package integrity

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// ManifestSchema identifies the manifest format; a manifest with another
// schema is refused.
const ManifestSchema = "medguard.manifest/v1"

// Limits on what is read from outside (a manifest is hostile input until
// its signature verifies, and its content is checked even after).
const (
	MaxEnvelopeSize = 64 << 20 // bytes of a signed manifest file
	MaxFiles        = 500_000  // entries of one manifest
	maxPathLen      = 4096
)

// Kind says what a file is for; it decides how a finding about it is
// weighed (an executable or library that changed is always critical).
type Kind string

// The kinds of file a manifest lists.
const (
	KindExecutable    Kind = "executable"
	KindLibrary       Kind = "library"
	KindConfiguration Kind = "configuration"
	KindData          Kind = "data"
	KindDocumentation Kind = "documentation"
	KindSymlink       Kind = "symlink"
)

func (k Kind) valid() bool {
	switch k {
	case KindExecutable, KindLibrary, KindConfiguration, KindData, KindDocumentation, KindSymlink:
		return true
	}
	return false
}

// Entry is one file of the software root.
type Entry struct {
	// Path is relative to the software root, slash-separated, clean, with
	// no "." or ".." element.
	Path string `json:"path"`
	Kind Kind   `json:"kind"`
	// Size in bytes (0 for a symlink).
	Size int64 `json:"size"`
	// Mode is the permission bits including setuid, setgid and sticky
	// (07777), as in chmod.
	Mode uint32 `json:"mode"`
	UID  uint32 `json:"uid"`
	GID  uint32 `json:"gid"`
	// SHA256 is the hex SHA-256 of the content (empty for a symlink).
	SHA256 string `json:"sha256,omitempty"`
	// Target is a symlink's target: relative, and resolving inside the
	// root.
	Target string `json:"target,omitempty"`
}

// Manifest lists every file of one software release.
type Manifest struct {
	Schema  string `json:"schema"`
	Product string `json:"product"`
	Version string `json:"version"`
	// SecurityVersion rises with every release that fixes a vulnerability;
	// a device refuses a manifest below the highest it has accepted.
	SecurityVersion uint64    `json:"security_version"`
	Created         time.Time `json:"created"`
	Files           []Entry   `json:"files"`
}

// Lookup returns the entry for p, if listed. Files must be sorted (as
// Validate guarantees).
func (m *Manifest) Lookup(p string) (Entry, bool) {
	i := sort.Search(len(m.Files), func(i int) bool { return m.Files[i].Path >= p })
	if i < len(m.Files) && m.Files[i].Path == p {
		return m.Files[i], true
	}
	return Entry{}, false
}

// Marshal returns the manifest's canonical JSON (files sorted by path).
func (m *Manifest) Marshal() ([]byte, error) {
	c := *m
	c.Files = make([]Entry, len(m.Files))
	copy(c.Files, m.Files)
	sort.Slice(c.Files, func(i, j int) bool { return c.Files[i].Path < c.Files[j].Path })
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return json.MarshalIndent(&c, "", " ")
}

// ParseManifest decodes and validates a manifest payload strictly: unknown
// fields, trailing data, a wrong schema, a bad path, an unsorted or
// duplicated entry are all refused with an error naming the entry.
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxEnvelopeSize {
		return nil, fmt.Errorf("parse manifest: %d bytes exceeds the limit of %d", len(data), MaxEnvelopeSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("parse manifest: trailing data after the manifest")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if m.Files == nil {
		m.Files = []Entry{}
	}
	return &m, nil
}

// Validate checks the manifest's rules.
func (m *Manifest) Validate() error {
	if m.Schema != ManifestSchema {
		return fmt.Errorf("manifest: schema %q, want %q", m.Schema, ManifestSchema)
	}
	if m.Product == "" || len(m.Product) > 128 || m.Version == "" || len(m.Version) > 128 {
		return fmt.Errorf("manifest: product and version must be 1 to 128 characters")
	}
	if len(m.Files) > MaxFiles {
		return fmt.Errorf("manifest: %d files exceeds the limit of %d", len(m.Files), MaxFiles)
	}
	for i := range m.Files {
		e := &m.Files[i]
		if err := e.validate(); err != nil {
			return fmt.Errorf("manifest: file %d (%q): %w", i, e.Path, err)
		}
		if i > 0 && m.Files[i-1].Path >= e.Path {
			return fmt.Errorf("manifest: file %d (%q): not sorted after %q or duplicated", i, e.Path, m.Files[i-1].Path)
		}
	}
	return nil
}

func (e *Entry) validate() error {
	if err := checkRelPath(e.Path); err != nil {
		return err
	}
	if !e.Kind.valid() {
		return fmt.Errorf("unknown kind %q", e.Kind)
	}
	if e.Mode&^uint32(fs.ModePerm|0o7000) != 0 {
		return fmt.Errorf("mode %o has bits beyond 07777", e.Mode)
	}
	if e.Kind == KindSymlink {
		if e.SHA256 != "" || e.Size != 0 {
			return fmt.Errorf("symlink with size or hash")
		}
		if !linkStaysInside(e.Path, e.Target) {
			return fmt.Errorf("symlink target %q escapes the root", e.Target)
		}
		return nil
	}
	if e.Target != "" {
		return fmt.Errorf("target on a file that is not a symlink")
	}
	if e.Size < 0 {
		return fmt.Errorf("negative size")
	}
	if b, err := hex.DecodeString(e.SHA256); err != nil || len(b) != 32 || strings.ToLower(e.SHA256) != e.SHA256 {
		return fmt.Errorf("sha256 must be 64 lower-case hex digits")
	}
	return nil
}

// checkRelPath accepts a clean, relative, slash-separated path with no
// "." or ".." element and no NUL.
func checkRelPath(p string) error {
	switch {
	case p == "" || len(p) > maxPathLen:
		return fmt.Errorf("path length must be 1 to %d", maxPathLen)
	case strings.ContainsRune(p, 0):
		return fmt.Errorf("path contains NUL")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("path is absolute")
	case path.Clean(p) != p:
		return fmt.Errorf("path is not clean")
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." || el == "." {
			return fmt.Errorf("path has a %q element", el)
		}
	}
	return nil
}

// linkStaysInside reports whether a symlink at p with target t stays
// inside the root. Absolute targets are refused, and ".." may only lead
// the target ("../lib/x"): the kernel applies a ".." after a symlinked
// directory to where that symlink points, not lexically, so "d/../../x"
// with d -> ".." would leave the root while its lexical form stays in.
// Leading ".." elements climb the real directories of p (no listed path
// passes through a symlink), where lexical and kernel resolution agree.
func linkStaysInside(p, t string) bool {
	if t == "" || strings.HasPrefix(t, "/") || strings.ContainsRune(t, 0) || len(t) > maxPathLen {
		return false
	}
	named := false
	for _, el := range strings.Split(t, "/") {
		switch el {
		case "", ".":
		case "..":
			if named {
				return false
			}
		default:
			named = true
		}
	}
	r := path.Join(path.Dir(p), t)
	return r != ".." && !strings.HasPrefix(r, "../") && r != "."
}
