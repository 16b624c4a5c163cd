package supervisor

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog/eventlogtest"
	"github.com/medguard/medguard/internal/integrity"
	"github.com/medguard/medguard/internal/testenv"
)

// stateDaemon stands in for medguardd's device state machine and local
// API: integrity tells it NotSuitable, vitalsim asks it for the status.
type stateDaemon struct {
	mu           sync.Mutex
	state, cause string
	since        time.Time
}

func (d *stateDaemon) NotSuitable(_ context.Context, _, cause, _ string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state != "not-suitable" {
		d.state, d.cause, d.since = "not-suitable", cause, time.Now()
	}
}

func (d *stateDaemon) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"device": "demo", "state": d.state, "since": d.since, "cause": d.cause})
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestDemoTamperShowsWarning runs the demo loop for real: the demo tree is
// built and signed, verified at boot, vitalsim runs under the supervisor
// from its verified copy, a byte of the vitalsim executable is changed
// on disk, and vitalsim's clinical display turns to NOT SUITABLE.
func TestDemoTamperShowsWarning(t *testing.T) {
	testenv.Tool(t, "go", "golang-go")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "local.sock")
	listen := freeAddr(t)
	tree, err := integrity.BuildDemoTree(ctx, integrity.DemoOptions{Dir: dir, Socket: sock, Listen: listen})
	if err != nil {
		t.Fatal(err)
	}
	dev := &stateDaemon{state: "operational", since: time.Now()}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	api := &http.Server{Handler: dev}
	go api.Serve(ln)
	defer api.Close()

	rec := &eventlogtest.Memory{}
	ck, err := integrity.New(integrity.Config{Root: tree.Root, ManifestFile: tree.Manifest,
		TrustedKeys: []integrity.PublicKey{tree.TrustedKey}, Threshold: 1,
		Floor: &integrity.MemoryFloor{}, Recorder: rec, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ck.VerifyBoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("boot verification: %d files, %d bytes in %v", rep.Files, rep.Bytes, time.Duration(rep.Duration))
	sup, err := New(Config{Verifier: ck, ProgramsFile: tree.Programs, Recorder: rec, Device: dev, Stderr: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ck.Run(ctx) }()
	go func() { defer wg.Done(); sup.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	url := fmt.Sprintf("http://%s/api/display", listen)
	waitMode(t, url, "ok", 30*time.Second)
	t0 := time.Now()
	f, err := os.OpenFile(filepath.Join(tree.Root, "bin/vitalsim"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err) // the running vitalsim came from a memfd: the file is not busy
	}
	f.WriteAt([]byte("X"), 4096)
	f.Close()
	cause := waitMode(t, url, "not-suitable", 10*time.Second)
	t.Logf("tamper to full-screen warning: %v (cause %q)", time.Since(t0), cause)
}

func waitMode(t *testing.T, url, mode string, limit time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			var d struct{ Mode, Cause string }
			json.NewDecoder(resp.Body).Decode(&d)
			resp.Body.Close()
			if d.Mode == mode {
				return d.Cause
			}
			last = d.Mode
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("display mode %q, want %q within %v", last, mode, limit)
	return ""
}
