package supervisor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog/eventlogtest"
	"github.com/medguard/medguard/internal/integrity"
)

// syncBuffer is a bytes.Buffer safe for the program's output goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type device struct {
	mu    sync.Mutex
	codes []string
}

func (d *device) NotSuitable(_ context.Context, code, _, _ string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.codes = append(d.codes, code)
}

func (d *device) Codes() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.codes...)
}

type env struct {
	root string
	ck   *integrity.Checker
	rec  *eventlogtest.Memory
	dev  *device
	out  *syncBuffer
	sup  *Supervisor
	keys []integrity.PublicKey // the trusted release key
}

func put(t *testing.T, p string, data []byte, mode os.FileMode) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, mode)
}

// setup builds a signed software root holding a copy of /bin/sh as
// bin/app and the given program list, verifies it at boot and returns a
// supervisor over it.
func setup(t *testing.T, programs string) *env {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	put(t, filepath.Join(root, "bin/app"), sh, 0o755)
	put(t, filepath.Join(root, "etc/supervisor.toml"), []byte(programs), 0o644)
	key, _ := integrity.GenerateKey()
	m, err := integrity.Build(context.Background(), root, integrity.BuildOptions{Product: "t", Version: "1", SecurityVersion: 1})
	if err != nil {
		t.Fatal(err)
	}
	envl, err := integrity.Sign(context.Background(), m, key)
	if err != nil {
		t.Fatal(err)
	}
	mf := filepath.Join(base, "manifest.json")
	os.WriteFile(mf, envl, 0o644)
	e := &env{root: root, rec: &eventlogtest.Memory{}, dev: &device{}, out: &syncBuffer{}, keys: []integrity.PublicKey{key.PublicKey()}}
	e.ck, err = integrity.New(integrity.Config{Root: root, ManifestFile: mf, TrustedKeys: e.keys,
		Threshold: 1, Floor: &integrity.MemoryFloor{}, Recorder: e.rec, Device: e.dev})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ck.VerifyBoot(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.sup, err = New(Config{Verifier: e.ck, Recorder: e.rec, Device: e.dev, Stdout: e.out, Stderr: e.out})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const echoProgram = `
[[program]]
name = "app"
path = "bin/app"
args = ["-c", "echo started $FOO $MEDGUARD_TEST_SECRET"]
env = ["FOO=from-signed-config"]
restart = "never"
`

func TestStartsVerifiedProgramWithSignedArgsAndEnvOnly(t *testing.T) {
	t.Setenv("MEDGUARD_TEST_SECRET", "leaked")
	e := setup(t, echoProgram)
	if err := e.sup.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(e.out.String()); got != "started from-signed-config" {
		t.Fatalf("output %q: want the signed arguments and environment, nothing inherited", got)
	}
	if !slices.Contains(e.rec.Codes(), "supervisor.program.started") {
		t.Fatalf("events %v", e.rec.Codes())
	}
}

// TestSwapBetweenVerificationAndExec: the file is replaced (rename) or
// rewritten in place after verification; the verified bytes still run.
func TestSwapBetweenVerificationAndExec(t *testing.T) {
	for _, how := range []string{"rename", "in-place"} {
		t.Run(how, func(t *testing.T) {
			e := setup(t, echoProgram)
			evil := []byte("#!/bin/sh\necho TAMPERED\n")
			testHookVerified = func(Program) {
				p := filepath.Join(e.root, "bin/app")
				if how == "rename" {
					put(t, p+".new", evil, 0o755)
					if err := os.Rename(p+".new", p); err != nil {
						t.Error(err)
					}
					return
				}
				if err := os.WriteFile(p, evil, 0o755); err != nil {
					t.Error(err)
				}
			}
			defer func() { testHookVerified = nil }()
			if err := e.sup.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(e.out.String()); got != "started from-signed-config" {
				t.Fatalf("ran %q, want the verified program's output", got)
			}
			if now, _ := os.ReadFile(filepath.Join(e.root, "bin/app")); string(now) != string(evil) {
				t.Fatal("the swap did not happen: the test proves nothing")
			}
		})
	}
}

func TestTamperedExecutableIsNotRestarted(t *testing.T) {
	e := setup(t, `
[[program]]
name = "app"
path = "bin/app"
args = ["-c", "echo run; exit 3"]
restart = "always"
restart_delay = "10ms"
`)
	first := true
	testHookVerified = func(Program) {
		if first { // after the first start: tamper, so that the restart must refuse
			first = false
			f, _ := os.OpenFile(filepath.Join(e.root, "bin/app"), os.O_WRONLY, 0)
			f.WriteAt([]byte{0x90}, 500)
			f.Close()
		}
	}
	defer func() { testHookVerified = nil }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.sup.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(e.out.String(), "run"); n != 1 {
		t.Fatalf("program ran %d times, want once (the restart must be refused)", n)
	}
	codes := e.rec.Codes()
	for _, want := range []string{"supervisor.program.exited", "integrity.exec.refused", "supervisor.program.refused"} {
		if !slices.Contains(codes, want) {
			t.Fatalf("events %v lack %s", codes, want)
		}
	}
	if len(e.dev.Codes()) == 0 {
		t.Fatal("device not told")
	}
}

func TestUnlistedOrNonExecutablePathRefused(t *testing.T) {
	for _, path := range []string{"bin/other", "etc/supervisor.toml"} {
		e := setup(t, "[[program]]\nname = \"x\"\npath = \""+path+"\"\n")
		if err := e.sup.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(e.rec.Codes(), "supervisor.program.refused") || e.out.String() != "" {
			t.Fatalf("%s: events %v output %q", path, e.rec.Codes(), e.out.String())
		}
	}
}

func TestTamperedProgramListRefused(t *testing.T) {
	e := setup(t, echoProgram)
	put(t, filepath.Join(e.root, "etc/supervisor.toml"), []byte(strings.Replace(echoProgram, "echo started", "echo evil", 1)), 0o644)
	if err := e.sup.Run(context.Background()); !integrity.IsSecurity(err) {
		t.Fatalf("Run = %v, want a security error", err)
	}
	if e.out.String() != "" {
		t.Fatal("a program ran from a tampered list")
	}
}

func TestStopsCleanly(t *testing.T) {
	e := setup(t, `
[[program]]
name = "app"
path = "bin/app"
args = ["-c", "trap 'echo bye; exit 0' TERM; echo up; while :; do sleep 0.05; done"]
restart = "always"
stop_timeout = "5s"
`)
	done := make(chan error)
	go func() { done <- e.sup.Run(context.Background()) }()
	for !strings.Contains(e.out.String(), "up") {
		time.Sleep(10 * time.Millisecond)
	}
	e.sup.Close()
	e.sup.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.out.String(), "bye") {
		t.Fatalf("program did not get SIGTERM: %q", e.out.String())
	}
	for _, st := range e.sup.Status() {
		if st.Running {
			t.Fatalf("still running: %+v", st)
		}
	}
}

// TestRunsAsConfiguredUser: the signed list's uid/gid apply (the clinical
// application runs as its own user), with no supplementary group left
// over from the daemon.
func TestRunsAsConfiguredUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to change user")
	}
	e := setup(t, `
[[program]]
name = "app"
path = "bin/app"
args = ["-c", "echo $(id -u):$(id -g):$(id -G)"]
env = ["PATH=/usr/bin:/bin"]
restart = "never"
uid = 4321
gid = 4322
`)
	// Give the daemon (this process) a supplementary group the program
	// must not keep.
	if err := syscall.Setgroups([]int{4444}); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setgroups(nil)
	if err := e.sup.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// No supplementary group of the daemon (root's group 0) is kept.
	if got := strings.TrimSpace(e.out.String()); got != "4321:4322:4322" {
		t.Fatalf("ran as %q (uid:gid:groups), want 4321:4322:4322", got)
	}
}

// TestNothingStartsAfterFailedBoot: when the boot verification refused the
// software (here one byte of the executable changed), the supervisor
// starts nothing: without a verified manifest it cannot even read its
// program list.
func TestNothingStartsAfterFailedBoot(t *testing.T) {
	e := setup(t, echoProgram)
	f, err := os.OpenFile(filepath.Join(e.root, "bin/app"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0x90}, 700)
	f.Close()
	mf := filepath.Join(filepath.Dir(e.root), "manifest.json")
	ck, err := integrity.New(integrity.Config{Root: e.root, ManifestFile: mf, TrustedKeys: e.keys,
		Threshold: 1, Floor: &integrity.MemoryFloor{}, Recorder: e.rec, Device: e.dev})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ck.VerifyBoot(context.Background()); !integrity.IsSecurity(err) {
		t.Fatalf("VerifyBoot of a tampered tree = %v", err)
	}
	sup, err := New(Config{Verifier: ck, Recorder: e.rec, Device: e.dev, Stdout: e.out, Stderr: e.out})
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Run(context.Background()); !integrity.IsSecurity(err) {
		t.Fatalf("Run = %v, want a security error", err)
	}
	if e.out.String() != "" || slices.Contains(e.rec.Codes(), "supervisor.program.started") {
		t.Fatalf("a program ran after a failed boot: output %q, events %v", e.out.String(), e.rec.Codes())
	}
	if !slices.Contains(e.dev.Codes(), "supervisor.program.refused") {
		t.Fatalf("device not told: %v", e.dev.Codes())
	}
}
