package integrity

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// makeBenchTree writes files of mixed sizes (4 KiB to 1 MiB) under root,
// about total bytes in all.
func makeBenchTree(tb testing.TB, root string, total int64) {
	tb.Helper()
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i*7919 + i>>8)
	}
	sizes := []int{4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20}
	var n int64
	for i := 0; n < total; i++ {
		sz := sizes[i%len(sizes)]
		p := filepath.Join(root, fmt.Sprintf("d%02d/f%05d", i%32, i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		chunk[0] = byte(i) // distinct content
		if err := os.WriteFile(p, chunk[:sz], 0o644); err != nil {
			tb.Fatal(err)
		}
		n += int64(sz)
	}
}

// sha256Limit measures raw SHA-256 over an in-memory buffer on every core
// at once: the physical limit of any verification (bytes per second).
func sha256Limit(d time.Duration) float64 {
	buf := make([]byte, 1<<20)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int64
			for time.Since(start) < d {
				sha256.Sum256(buf)
				n += int64(len(buf))
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return float64(total) / time.Since(start).Seconds()
}

// BenchmarkSHA256Limit is raw SHA-256 on all cores (MB/s is the limit).
func BenchmarkSHA256Limit(b *testing.B) {
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sha256.Sum256(buf)
		}
	})
}

// BenchmarkVerify is a full verification (every file opened beneath the
// root, fstat, hashed; the walk for unlisted files) of a 128 MB tree of
// mixed file sizes, warm. It reports its ratio to the SHA-256 limit
// measured in the same run.
func BenchmarkVerify(b *testing.B) {
	root := b.TempDir()
	makeBenchTree(b, root, 128<<20)
	m, err := Build(context.Background(), root, BuildOptions{Product: "bench", Version: "1"})
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, e := range m.Files {
		total += e.Size
	}
	if _, err := Verify(context.Background(), root, m, VerifyOptions{}); err != nil { // warm the cache
		b.Fatal(err)
	}
	b.SetBytes(total)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		rep, err := Verify(context.Background(), root, m, VerifyOptions{})
		if err != nil || len(rep.Findings) > 0 {
			b.Fatal(err, rep.Findings)
		}
	}
	rate := float64(total) * float64(b.N) / time.Since(start).Seconds()
	b.StopTimer()
	limit := sha256Limit(500 * time.Millisecond)
	b.ReportMetric(rate/limit, "of-sha256-limit")
	b.ReportMetric(float64(len(m.Files)), "files")
}

// TestIdleRehashCPU runs the run-time monitor over a tree for
// MEDGUARD_IDLE_RUN (e.g. "10m") and reports the CPU it used; it is a
// measurement for BENCHMARKS.md (scripts/bench-integrity.sh), skipped
// unless asked for.
func TestIdleRehashCPU(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("MEDGUARD_IDLE_RUN"))
	if err != nil {
		t.Skip("set MEDGUARD_IDLE_RUN=10m (and MEDGUARD_IDLE_MB) to measure the idle cost of the monitor")
	}
	mb := int64(200)
	fmt.Sscan(os.Getenv("MEDGUARD_IDLE_MB"), &mb)
	f := newFixture(t)
	makeBenchTree(t, filepath.Join(f.root, "data"), mb<<20)
	f.sign(t, 5, f.key)
	c := f.checker(t, 1)
	c.cfg.RehashBudget = 0.02
	if _, err := c.VerifyBoot(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	before := cpuTime()
	start := time.Now()
	c.Run(ctx)
	used := cpuTime() - before
	st := c.Stats()
	t.Logf("idle monitor over %d MB for %v: CPU %v = %.2f %% of one core; passes %d, last pass %v, re-hashed %d MB",
		mb, time.Since(start).Round(time.Second), used.Round(time.Millisecond), 100*used.Seconds()/time.Since(start).Seconds(),
		st.Passes, time.Duration(st.LastPass).Round(time.Second), st.Bytes>>20)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
