package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// Verifier hands out verified software. *integrity.Checker implements it.
type Verifier interface {
	// OpenExecutable returns a sealed, verified copy of the executable rel
	// (relative to the software root), or an error.
	OpenExecutable(ctx context.Context, rel string) (*os.File, error)
	// ReadVerified returns the verified content of the listed file rel.
	ReadVerified(ctx context.Context, rel string) ([]byte, error)
}

// Device is told when the clinical application cannot run. The lead's
// device state machine implements it (as for package integrity).
type Device interface {
	NotSuitable(ctx context.Context, code, cause, action string)
}

// Config is what a Supervisor needs.
type Config struct {
	// Verifier supplies verified executables and the program list.
	Verifier Verifier
	// ProgramsFile is the program list, relative to the software root
	// (default "etc/supervisor.toml").
	ProgramsFile string
	// Recorder receives events (Category "software").
	Recorder eventlog.Recorder
	// Device is told when a program cannot run; nil: nobody.
	Device Device
	// Logger receives operational logs; nil: discarded.
	Logger *slog.Logger
	// Stdout and Stderr receive the programs' output; nil: discarded.
	Stdout, Stderr io.Writer
}

// Supervisor starts and watches the programs of the signed program list.
type Supervisor struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex // guards status, closed
	status map[string]*Status
	closed bool
	stop   chan struct{}
}

// Status is the state of one program.
type Status struct {
	Name     string    `json:"name"`
	Running  bool      `json:"running"`
	PID      int       `json:"pid,omitempty"`
	Starts   int       `json:"starts"`
	Since    time.Time `json:"since,omitzero"`
	LastExit string    `json:"last_exit,omitempty"`
	GaveUp   bool      `json:"gave_up,omitempty"`
}

// New returns a Supervisor; it starts nothing until Run.
func New(cfg Config) (*Supervisor, error) {
	if cfg.Verifier == nil || cfg.Recorder == nil {
		return nil, errors.New("supervisor: Verifier and Recorder are required")
	}
	if cfg.ProgramsFile == "" {
		cfg.ProgramsFile = "etc/supervisor.toml"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Supervisor{cfg: cfg, log: log, status: map[string]*Status{}, stop: make(chan struct{})}, nil
}

// Run reads the verified program list, starts every program and keeps
// them running by their policies until ctx is done or Close is called;
// then it stops them all cleanly and returns. An unverifiable program list
// is an error (nothing is started).
func (s *Supervisor) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	data, err := s.cfg.Verifier.ReadVerified(ctx, s.cfg.ProgramsFile)
	if err != nil {
		s.refused(ctx, "program list", err)
		return fmt.Errorf("supervisor: read program list %s: %w", s.cfg.ProgramsFile, err)
	}
	progs, err := ParsePrograms(data)
	if err != nil {
		s.refused(ctx, "program list", err)
		return fmt.Errorf("supervisor: %s: %w", s.cfg.ProgramsFile, err)
	}
	var wg sync.WaitGroup
	for _, p := range progs {
		wg.Add(1)
		go func() { defer wg.Done(); s.supervise(ctx, p) }()
	}
	wg.Wait()
	return nil
}

// Close stops Run (and with it every program). Safe to call more than once.
func (s *Supervisor) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	return nil
}

// Status returns the state of every program.
func (s *Supervisor) Status() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(s.status))
	for _, st := range s.status {
		out = append(out, *st)
	}
	return out
}

func (s *Supervisor) setStatus(name string, fn func(*Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.status[name]
	if !ok {
		st = &Status{Name: name}
		s.status[name] = st
	}
	fn(st)
}

// testHookVerified, if set, runs between verification and exec (tests swap
// the file there).
var testHookVerified func(p Program)

// start verifies p's executable and starts it from the verified copy.
func (s *Supervisor) start(ctx context.Context, p Program) (*exec.Cmd, error) {
	mem, err := s.cfg.Verifier.OpenExecutable(ctx, p.Path)
	if err != nil {
		return nil, err
	}
	defer mem.Close() // the child has its own mapping once exec succeeded
	if testHookVerified != nil {
		testHookVerified(p)
	}
	cmd := &exec.Cmd{
		// fexecve: execute the sealed, verified memfd itself. The fd is
		// close-on-exec, so the program does not inherit it.
		Path:   fmt.Sprintf("/proc/self/fd/%d", mem.Fd()),
		Args:   append([]string{p.Name}, p.Args...),
		Env:    append([]string{}, p.Env...),
		Dir:    "/",
		Stdout: s.cfg.Stdout,
		Stderr: s.cfg.Stderr,
		// Its own process group, so that stopping it stops its children.
		// (No Pdeathsig: Linux ties it to the forking thread, which the Go
		// runtime may retire while the program should keep running.)
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if *p.UID >= 0 || *p.GID >= 0 {
		uid, gid := os.Getuid(), os.Getgid() // a side not given stays the daemon's, never root by default
		if *p.UID >= 0 {
			uid = *p.UID
		}
		if *p.GID >= 0 {
			gid = *p.GID
		}
		// Groups empty and set: the program keeps none of the daemon's
		// supplementary groups (least privilege, ARCHITECTURE.md rule 2).
		// Only a privileged daemon may call setgroups; an unprivileged
		// one has no group to leak beyond its own.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{},
			NoSetGroups: os.Geteuid() != 0}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.Name, err)
	}
	return cmd, nil
}
