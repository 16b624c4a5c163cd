package supervisor

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// maxProgramsFile bounds the program list read from the software root.
const maxProgramsFile = 1 << 20

// Program is one supervised program, as the signed program list states it.
type Program struct {
	// Name identifies the program in events ("vitalsim").
	Name string `toml:"name"`
	// Path of the executable, relative to the software root; it must be
	// listed in the manifest as an executable.
	Path string `toml:"path"`
	// Args are the arguments after argv[0] (which is Name).
	Args []string `toml:"args"`
	// Env is the complete environment, "KEY=value" each; nothing else is
	// passed.
	Env []string `toml:"env"`
	// Restart is "always", "on-failure" (default) or "never".
	Restart string `toml:"restart"`
	// MaxRestarts within RestartWindow before giving up (default 5, 0 to 100).
	MaxRestarts   *int     `toml:"max_restarts"`
	RestartWindow duration `toml:"restart_window"`
	// RestartDelay is the first delay before a restart, doubled each time
	// up to 30 s (default 1s).
	RestartDelay duration `toml:"restart_delay"`
	// StopTimeout is how long SIGTERM may take before SIGKILL (default 5s).
	StopTimeout duration `toml:"stop_timeout"`
	// UID and GID to run as; -1 (default) keeps the daemon's.
	UID *int `toml:"uid"`
	GID *int `toml:"gid"`
}

type programsFile struct {
	Program []Program `toml:"program"`
}

type duration time.Duration

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration: %q", b)
	}
	*d = duration(v)
	return nil
}

var (
	programName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	envKey      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ParsePrograms parses the signed program list strictly: an unknown key, a
// bad value or a duplicate name is an error naming the program and key.
func ParsePrograms(data []byte) ([]Program, error) {
	if len(data) > maxProgramsFile {
		return nil, fmt.Errorf("parse program list: %d bytes exceeds %d", len(data), maxProgramsFile)
	}
	var pf programsFile
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&pf)
	if err != nil {
		return nil, fmt.Errorf("parse program list: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("parse program list: unknown key %s", und[0])
	}
	if len(pf.Program) == 0 || len(pf.Program) > 32 {
		return nil, fmt.Errorf("parse program list: %d programs (want 1 to 32)", len(pf.Program))
	}
	seen := map[string]bool{}
	for i := range pf.Program {
		p := &pf.Program[i]
		p.defaults()
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("parse program list: program %d (%q): %w", i, p.Name, err)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("parse program list: program %q listed twice", p.Name)
		}
		seen[p.Name] = true
	}
	return pf.Program, nil
}

func (p *Program) defaults() {
	for _, v := range []**int{&p.UID, &p.GID} {
		if *v == nil {
			*v = ptr(-1)
		}
	}
	if p.MaxRestarts == nil {
		p.MaxRestarts = ptr(5)
	}
	if p.Restart == "" {
		p.Restart = "on-failure"
	}
	if p.RestartWindow == 0 {
		p.RestartWindow = duration(time.Minute)
	}
	if p.RestartDelay == 0 {
		p.RestartDelay = duration(time.Second)
	}
	if p.StopTimeout == 0 {
		p.StopTimeout = duration(5 * time.Second)
	}
}

func (p *Program) validate() error {
	switch {
	case !programName.MatchString(p.Name):
		return fmt.Errorf("name: must match %s", programName)
	case p.Path == "" || path.IsAbs(p.Path) || path.Clean(p.Path) != p.Path || p.Path == ".." || strings.HasPrefix(p.Path, "../"):
		return fmt.Errorf("path %q: must be a clean path relative to the software root", p.Path)
	case p.Restart != "always" && p.Restart != "on-failure" && p.Restart != "never":
		return fmt.Errorf("restart %q: want always, on-failure or never", p.Restart)
	case *p.MaxRestarts < 0 || *p.MaxRestarts > 100:
		return fmt.Errorf("max_restarts %d out of range [0, 100]", *p.MaxRestarts)
	case p.RestartWindow < 0 || p.RestartDelay < 0 || p.StopTimeout < 0 || time.Duration(p.StopTimeout) > time.Minute:
		return fmt.Errorf("durations must be positive, stop_timeout at most 1m")
	case *p.UID < -1 || *p.GID < -1:
		return fmt.Errorf("uid and gid must be -1 or an id")
	case len(p.Args) > 256 || len(p.Env) > 256:
		return fmt.Errorf("at most 256 args and 256 env entries")
	}
	for _, a := range append(append([]string{}, p.Args...), p.Env...) {
		if strings.ContainsRune(a, 0) {
			return fmt.Errorf("argument or environment entry contains NUL")
		}
	}
	for _, e := range p.Env {
		k, _, ok := strings.Cut(e, "=")
		if !ok || !envKey.MatchString(k) {
			return fmt.Errorf("env %q: want KEY=value", e)
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
