package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDemoStartToReady measures the time from exec of medguardd
// --demo to its "state:" line (every boot check done, the demo software
// tree of about 10 MB built, signed and verified), and the daemon's
// resident memory after it has idled for 3 s (metric idle-RSS-MiB).
//
//	go test -run '^$' -bench DemoStartToReady -benchtime 5x ./cmd/medguardd
func BenchmarkDemoStartToReady(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "medguardd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	// The demo copies the vitalsim next to the daemon into its software
	// tree (otherwise it builds one, which is not the daemon's start).
	if out, err := exec.Command("go", "build", "-o", filepath.Join(filepath.Dir(bin), "vitalsim"), "../vitalsim").CombinedOutput(); err != nil {
		b.Fatalf("go build vitalsim: %v\n%s", err, out)
	}
	var rss float64
	var total time.Duration
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(b.TempDir(), "state")
		cmd := exec.Command(bin, "--demo", "--state-dir", dir)
		out, _ := cmd.StdoutPipe()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "state: ") {
				break
			}
		}
		total += time.Since(start)
		if i == b.N-1 {
			time.Sleep(3 * time.Second)
			rss = vmRSS(b, cmd.Process.Pid)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		go func() {
			for sc.Scan() {
			}
		}()
		cmd.Wait()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-ready")
	b.ReportMetric(rss, "idle-RSS-MiB")
}

func vmRSS(b *testing.B, pid int) float64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
