package eventlog

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The benchmarks of issue 3, each next to the physical limit it is judged
// against, measured in the same run (BENCHMARKS.md):
//
//	go test -run '^$' -bench . -benchtime 3s ./internal/eventlog
//
// A typical record: an authentication failure with one field (≈ 330 bytes).

func benchEvent() Event {
	return Event{Code: "auth.login.failed", Category: CategoryAuth, Severity: SeverityWarning,
		Actor: "admin", Source: "10.1.2.3:51234", Message: "login failed: wrong password",
		Fields: map[string]string{"attempt": "3"}}
}

// benchLog opens a log with the production defaults (real clock, default
// epochs and checkpoints), flood coalescing off so that every event is
// written.
func benchLog(b *testing.B, mod ...func(*Config)) *Log {
	env := newTestEnv(b)
	c := Config{Dir: env.logDir(), Keys: env.keys, BootID: "bench", DeviceName: "monitor-7", FloodBurst: -1, MaxBytes: 8 << 30}
	for _, m := range mod {
		m(&c)
	}
	l, err := Open(c)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkAppend is durable append: every Record returns after fsync
// (group commit). writers=1024 measures throughput with many concurrent
// writers; writers=16 the acknowledgement time at a moderate load;
// checkpoints=off the same as writers=1024 without checkpoints, for the
// cost of checkpoints. Each reports events/s and the 99th percentile of the
// acknowledgement time.
func BenchmarkAppend(b *testing.B) {
	for _, tc := range []struct {
		name    string
		writers int
		noCP    bool
	}{{"writers=1024", 1024, false}, {"writers=512", 512, false}, {"writers=16", 16, false}, {"writers=1024/checkpoints=off", 1024, true}} {
		b.Run(tc.name, func(b *testing.B) {
			l := benchLog(b, func(c *Config) {
				if tc.noCP {
					c.CheckpointEntries, c.CheckpointInterval = 1<<62, 1<<62
				}
			})
			defer l.Close()
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(max(1, tc.writers/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				ev := benchEvent()
				for pb.Next() {
					t0 := time.Now()
					if _, err := l.Record(context.Background(), ev); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			reportP99(b, lat)
		})
	}
}

func reportP99(b *testing.B, lat []time.Duration) {
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkLimitFsyncAppend is the physical limit of durable append on this
// disk: the same record bytes, pre-encoded, appended in batches of 512 with
// one fdatasync per batch, no MAC, no tree, no goroutines.
func BenchmarkLimitFsyncAppend(b *testing.B) {
	line := append(appendMAC(appendBody(nil, &Event{Seq: 123456, Time: time.Now(), BootID: "bench", Code: "auth.login.failed",
		Category: CategoryAuth, Severity: SeverityWarning, Actor: "admin", Source: "10.1.2.3:51234",
		Message: "login failed: wrong password", Fields: map[string]string{"attempt": "3"}}, 7, make([]byte, 32)), make([]byte, 32)), '\n')
	f, err := os.Create(filepath.Join(b.TempDir(), "raw.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	batch := make([]byte, 0, 512*len(line))
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; {
		batch = batch[:0]
		for j := 0; j < 512 && i < b.N; j++ {
			batch = append(batch, line...)
			i++
		}
		t0 := time.Now()
		f.Write(batch)
		syscall.Fdatasync(int(f.Fd()))
		lat = append(lat, time.Since(t0))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	reportP99(b, lat) // of one write+fdatasync: the floor of any acknowledgement
}

// BenchmarkLimitHMAC is raw HMAC-SHA256 over the same record bytes, on all
// cores: the physical limit of MAC verification.
func BenchmarkLimitHMAC(b *testing.B) {
	body := appendBody(nil, &Event{Seq: 123456, Time: time.Now(), BootID: "bench", Code: "auth.login.failed",
		Category: CategoryAuth, Severity: SeverityWarning, Actor: "admin", Source: "10.1.2.3:51234",
		Message: "login failed: wrong password", Fields: map[string]string{"attempt": "3"}}, 7, make([]byte, 32))
	b.SetBytes(int64(len(body)))
	b.RunParallel(func(pb *testing.PB) {
		m := hmac.New(sha256.New, make([]byte, 32))
		var sum [32]byte
		for pb.Next() {
			m.Reset()
			m.Write(body)
			m.Sum(sum[:0])
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

var verifyLog struct {
	once sync.Once
	dir  string
	root []byte
	pub  []byte
	n    uint64
}

// BenchmarkVerify verifies a log of 500,000 records (≈ 170 MB) with the
// root key: every MAC, the chain, every checkpoint's signature and tree.
// It reports entries/s and the peak resident memory during verification.
func BenchmarkVerify(b *testing.B) {
	verifyLog.once.Do(func() {
		dir, err := os.MkdirTemp("", "eventlog-bench-")
		if err != nil {
			b.Fatal(err)
		}
		env := &testEnv{t: b, dir: dir}
		env.keys, _ = newKeysForBench(dir)
		l, err := Open(Config{Dir: env.logDir(), Keys: env.keys, BootID: "bench", DeviceName: "monitor-7", FloodBurst: -1, MaxBytes: 8 << 30})
		if err != nil {
			b.Fatal(err)
		}
		fillParallel(b, l, 500_000)
		l.Close()
		verifyLog.dir, verifyLog.root, verifyLog.pub = env.logDir(), env.rootKey(), env.pub()
	})
	// Warm the page cache: the figure is the verifier's, not the disk's.
	if _, err := VerifyDir(context.Background(), verifyLog.dir, VerifyOptions{RootKey: verifyLog.root, DevicePublicKey: verifyLog.pub}); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset the peak RSS
	b.ResetTimer()
	var recs uint64
	var raw time.Duration
	for range b.N {
		rep, err := VerifyDir(context.Background(), verifyLog.dir, VerifyOptions{RootKey: verifyLog.root, DevicePublicKey: verifyLog.pub})
		if err != nil || !rep.OK {
			b.Fatalf("%v %+v", err, rep.First)
		}
		recs += rep.Records
		// The limit, interleaved so that the machine's load affects both
		// alike: read the same segments and HMAC every line on all cores.
		b.StopTimer()
		t0 := time.Now()
		rawHMACPass(b, verifyLog.dir)
		raw += time.Since(t0)
		b.StartTimer()
	}
	b.StopTimer()
	rate := float64(recs) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "entries/s")
	b.ReportMetric(rate/(float64(recs)/raw.Seconds()), "of-raw-HMAC")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
}

// rawHMACPass reads every segment of dir and computes HMAC-SHA256 of every
// line, one goroutine per core: what verification cannot beat.
func rawHMACPass(b *testing.B, dir string) {
	segs, err := listSegments(dir)
	if err != nil {
		b.Fatal(err)
	}
	n := runtime.GOMAXPROCS(0)
	for _, sg := range segs {
		data, err := os.ReadFile(filepath.Join(dir, sg.name))
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := hmac.New(sha256.New, verifyLog.root)
				var sum [32]byte
				part := data[len(data)*w/n : len(data)*(w+1)/n]
				for len(part) > 0 {
					i := bytes.IndexByte(part, '\n')
					if i < 0 {
						i = len(part) - 1
					}
					m.Reset()
					m.Write(part[:i])
					m.Sum(sum[:0])
					part = part[i+1:]
				}
			}()
		}
		wg.Wait()
	}
}

func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkWriterCPU is the writer goroutine's CPU work per record, without
// I/O: "event" appends one event (encode, MAC, Merkle leaf), "checkpoint"
// one signed checkpoint. checkpoint / (CheckpointEntries × event) is the
// cost of checkpoints relative to append throughput.
func BenchmarkWriterCPU(b *testing.B) {
	l := benchLog(b)
	defer l.Close()
	for _, kind := range []string{"event", "checkpoint"} {
		b.Run(kind, func(b *testing.B) {
			w := &writer{l: l, cfg: &l.cfg, signer: l.w.signer, key: make([]byte, 32), now: time.Now()}
			w.mac = newMacer(w.key, 0)
			for range 1000 {
				ev := benchEvent()
				w.appendRaw(&ev)
			}
			b.ResetTimer()
			for range b.N {
				if kind == "event" {
					ev := benchEvent()
					w.appendRaw(&ev)
				} else {
					w.appendCheckpoint()
				}
				if len(w.buf) > 1<<20 {
					w.buf = w.buf[:0]
				}
			}
		})
	}
}
