package keystoretest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/medguard/medguard/internal/testenv"
)

// SWTPM is a software TPM 2.0 (the swtpm program) started for a test on
// free loopback ports, with its state in a directory of the test's.
type SWTPM struct {
	t        testing.TB
	stateDir string
	bin      string

	mu     sync.Mutex // guards cmd, addr and stderr
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	addr   string
	stderr *bytes.Buffer
}

// StartSWTPM starts swtpm with its state in stateDir (a new temporary
// directory if empty) and stops it when the test ends. It skips the test
// (or fails it under MEDGUARD_INTEGRATION=1) if swtpm is not installed.
func StartSWTPM(t testing.TB, stateDir string) *SWTPM {
	t.Helper()
	bin := testenv.Tool(t, "swtpm", "swtpm")
	if stateDir == "" {
		stateDir = t.TempDir()
	}
	s := &SWTPM{t: t, stateDir: stateDir, bin: bin}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Device returns the TPM's address for keystore.TPMConfig.Device:
// tcp://127.0.0.1:PORT.
func (s *SWTPM) Device() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "tcp://" + s.addr
}

// StateDir returns the directory holding the TPM's persistent state.
func (s *SWTPM) StateDir() string { return s.stateDir }

// Start starts swtpm if it is not running, with the same state, on new
// free loopback ports. swtpm binds its ports itself; should another process
// take one in the moment between our choosing it and swtpm binding it,
// Start tries again with other ports.
func (s *SWTPM) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	var err error
	for range 5 {
		if err = s.startLocked(); err == nil {
			return
		}
	}
	s.t.Fatalf("start swtpm: %v", err)
}

func (s *SWTPM) startLocked() error {
	data, ctrl := freePort(s.t), freePort(s.t)
	s.stderr = new(bytes.Buffer)
	cmd := exec.Command(s.bin, "socket", "--tpm2",
		"--tpmstate", "dir="+s.stateDir,
		"--server", "type=tcp,bindaddr=127.0.0.1,port="+data,
		"--ctrl", "type=tcp,bindaddr=127.0.0.1,port="+ctrl,
		"--flags", "not-need-init,startup-clear",
	)
	cmd.Stdout = s.stderr
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	addr := "127.0.0.1:" + data
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("swtpm exited: %s", s.stderr)
		default:
		}
		// Only a TPM answer proves that the port is swtpm's.
		if ping(addr) == nil {
			s.cmd, s.exited, s.addr = cmd, exited, addr
			return nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("swtpm does not answer on %s; its output:\n%s", addr, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ping sends TPM2_GetRandom and checks that a TPM response comes back.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(transport.FromReadWriter(c))
	return err
}

// Stop terminates swtpm and waits for it. Its state stays in StateDir.
func (s *SWTPM) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Restart stops swtpm and starts it again with the same state, as a
// reboot of the device would (PCRs are reset, the seeds stay).
func (s *SWTPM) Restart() {
	s.t.Helper()
	s.Stop()
	s.Start()
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port for swtpm: %v", err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// String describes the instance for test logs.
func (s *SWTPM) String() string { return fmt.Sprintf("swtpm(%s, state %s)", s.Device(), s.stateDir) }

// ExtendPCR extends SHA-256 PCR pcr of the TPM at s with a measurement, as
// booting other software would. No other client may be connected to s.
func (s *SWTPM) ExtendPCR(pcr int) {
	s.t.Helper()
	c, err := net.DialTimeout("tcp", s.Device()[len("tcp://"):], 5*time.Second)
	if err != nil {
		s.t.Fatalf("extend PCR %d: %v", pcr, err)
	}
	defer c.Close()
	digest := sha256.Sum256([]byte("other boot loader"))
	_, err = tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(pcr), Auth: tpm2.PasswordAuth(nil)},
		Digests: tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{
			HashAlg: tpm2.TPMAlgSHA256, Digest: digest[:],
		}}},
	}.Execute(transport.FromReadWriter(c))
	if err != nil {
		s.t.Fatalf("extend PCR %d: %v", pcr, err)
	}
}
