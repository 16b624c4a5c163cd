package eventlog

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/keystore/keystoretest"
)

// The crash test of issue 3: a writer process is killed with SIGKILL, again
// and again, while many goroutines append; every event it acknowledged
// must be in the log afterwards, and the log must verify.

const crashDirEnv = "MEDGUARD_EVENTLOG_CRASH_DIR"

// TestCrashHelper is the writer process; it does nothing in a normal run.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashLoop")
	}
	ks, err := keystoretest.NewStore(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(Config{Dir: filepath.Join(dir, "log"), Keys: ks, BootID: "boot-" + strconv.Itoa(os.Getpid()),
		DeviceName: "monitor-7", EpochEntries: 64, CheckpointEntries: 50, SegmentBytes: 64 << 10, MaxBytes: 64 << 20, FloodBurst: -1})
	if err != nil {
		fmt.Println("OPEN-ERROR", err)
		os.Exit(3)
	}
	out := bufio.NewWriterSize(os.Stdout, 0)
	var mu sync.Mutex
	fmt.Fprintln(out, "READY")
	for g := range 16 {
		go func() {
			for i := 0; ; i++ {
				actor := fmt.Sprintf("p%d-g%d-%d", os.Getpid(), g, i)
				seq, err := l.Record(context.Background(), Event{Code: "auth.login.failed", Category: CategoryAuth,
					Severity: SeverityWarning, Actor: actor, Message: "login failed"})
				if err != nil {
					fmt.Println("RECORD-ERROR", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "ACK %d %s\n", seq, actor)
				mu.Unlock()
			}
		}()
	}
	select {}
}

func TestCrashLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("crash loop in -short mode")
	}
	dir := t.TempDir()
	acked := map[uint64]string{}
	for round := range 12 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.v=false")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		want := 50 + rand.IntN(400)
		sc := bufio.NewScanner(stdout)
		n := 0
		for sc.Scan() && n < want {
			f := strings.Fields(sc.Text())
			if len(f) > 0 && strings.HasSuffix(f[0], "ERROR") {
				t.Fatalf("round %d: writer: %s", round, sc.Text())
			}
			if len(f) == 3 && f[0] == "ACK" {
				seq, _ := strconv.ParseUint(f[1], 10, 64)
				if prev, dup := acked[seq]; dup {
					t.Fatalf("seq %d acknowledged twice (%s, %s)", seq, prev, f[2])
				}
				acked[seq] = f[2]
				n++
			}
		}
		// Kill while it is appending; a random extra moment lets the kill
		// land anywhere in a group commit.
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if n < want {
			t.Fatalf("round %d: writer stopped after %d acknowledgements", round, n)
		}
	}
	// Reopen (recovering the last crash), then check.
	ks, err := keystoretest.NewStore(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(Config{Dir: filepath.Join(dir, "log"), Keys: ks, BootID: "final", DeviceName: "monitor-7", SegmentBytes: 64 << 10, MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := l.Read(1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	have := map[uint64]string{}
	crashes := 0
	for _, r := range recs {
		have[r.Seq] = r.Actor
		if r.Code == CodeCrashDetected || r.Code == CodeTruncation {
			if r.Code == CodeTruncation {
				t.Errorf("a crash was reported as truncation: %s", r.Message)
			}
			crashes++
		}
	}
	for seq, actor := range acked {
		if have[seq] != actor {
			t.Fatalf("acknowledged event %d (%s) lost: log has %q", seq, actor, have[seq])
		}
	}
	s, err := ks.Secret("log-root-key")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := ks.Identity()
	// With the sealed head as evidence, as on the device: nothing that was
	// durable before the last kill is missing.
	st, err := LoadState(ks)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyDir(context.Background(), filepath.Join(dir, "log"), VerifyOptions{RootKey: s.Bytes(), DevicePublicKey: id.Public().(ed25519.PublicKey), Head: st})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.MACVerified != rep.Records || rep.Crash != nil {
		t.Fatalf("log does not verify after the crash loop: %+v", rep)
	}
	t.Logf("%d acknowledged events over 12 kills, all present; %d torn records reported as crashes; %d records verified", len(acked), crashes, rep.MACVerified)
}
