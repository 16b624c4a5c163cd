package eventlog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/keystore/keystoretest"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testEnv is a state directory with a test key store.
type testEnv struct {
	t     testing.TB
	dir   string
	keys  *keystore.Store
	clock *fakeClock
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	dir := t.TempDir()
	ks, err := keystoretest.NewStore(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, dir: dir, keys: ks, clock: &fakeClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}}
}

func (e *testEnv) logDir() string { return filepath.Join(e.dir, "log") }

func (e *testEnv) config() Config {
	return Config{
		Dir: e.logDir(), Keys: e.keys, BootID: "boot-1", DeviceName: "monitor-7",
		Clock: e.clock.Now, EpochEntries: 8, CheckpointEntries: 16, FloodBurst: -1,
	}
}

func (e *testEnv) open(mod ...func(*Config)) *Log {
	e.t.Helper()
	c := e.config()
	for _, m := range mod {
		m(&c)
	}
	l, err := Open(c)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *testEnv) rootKey() []byte {
	s, err := e.keys.Secret(keystore.ItemLogRootKey)
	if err != nil {
		e.t.Fatal(err)
	}
	return append([]byte(nil), s.Bytes()...)
}

func (e *testEnv) pub() ed25519.PublicKey {
	id, err := e.keys.Identity()
	if err != nil {
		e.t.Fatal(err)
	}
	return id.Public().(ed25519.PublicKey)
}

// verify verifies the log offline with the root key, as
// "medguard log verify --key" does.
func (e *testEnv) verify(cp []byte) Report {
	e.t.Helper()
	rep, err := VerifyDir(context.Background(), e.logDir(), VerifyOptions{RootKey: e.rootKey(), DevicePublicKey: e.pub(), Checkpoint: cp})
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

// segPaths returns the segment files, oldest first.
func (e *testEnv) segPaths() []string {
	e.t.Helper()
	segs, err := listSegments(e.logDir())
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, s := range segs {
		out = append(out, filepath.Join(e.logDir(), s.name))
	}
	return out
}

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func writeLines(t testing.TB, path string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

// indexOf returns the index of the line holding record seq.
func indexOf(t testing.TB, lines [][]byte, seq uint64) int {
	t.Helper()
	for i, l := range lines {
		var h lineHead
		if parseHead(bytes.TrimSuffix(l, []byte("\n")), &h) && h.seq == seq {
			return i
		}
	}
	t.Fatalf("record %d not found", seq)
	return -1
}

// lastCheckpoint returns the note of the newest checkpoint record: what a
// forwarder would have handed to the SIEM.
func (e *testEnv) lastCheckpoint() []byte {
	e.t.Helper()
	var note []byte
	for _, p := range e.segPaths() {
		for _, l := range readLines(e.t, p) {
			r, err := ParseRecord(l)
			if err == nil && r.Code == CodeCheckpoint {
				note = []byte(r.Fields[fieldNote])
			}
		}
	}
	if note == nil {
		e.t.Fatal("no checkpoint in the log")
	}
	return note
}

func testEvent(i int) Event {
	return Event{
		Code: "auth.login.failed", Category: CategoryAuth, Severity: SeverityWarning,
		Actor: fmt.Sprintf("user%d", i), Source: "10.0.0.7:5123",
		Message: "login failed: wrong password", Cause: "a wrong password was given",
		Action: "none unless it repeats", Fields: map[string]string{"attempt": fmt.Sprint(i)},
	}
}

// fill records n events and returns their sequence numbers.
func fill(t testing.TB, l *Log, n int) []uint64 {
	t.Helper()
	seqs := make([]uint64, n)
	for i := range n {
		s, err := l.Record(context.Background(), testEvent(i))
		if err != nil {
			t.Fatal(err)
		}
		seqs[i] = s
	}
	return seqs
}

// fillParallel records n events from 16 goroutines (group commit).
func fillParallel(t testing.TB, l *Log, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 16 {
				if _, err := l.Record(context.Background(), testEvent(i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func newKeysForBench(dir string) (*keystore.Store, error) {
	return keystoretest.NewStore(filepath.Join(dir, "keys"))
}

// rootKeyAfterOpen creates the root key (as the export would) and returns it.
func (e *testEnv) rootKeyAfterOpen() []byte {
	s, err := e.keys.EnsureSecret(keystore.ItemLogRootKey, 32)
	if err != nil {
		e.t.Fatal(err)
	}
	return append([]byte(nil), s.Bytes()...)
}
