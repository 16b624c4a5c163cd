package eventlog

import (
	"context"
	"fmt"
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

func (e *testEnv) pub() []byte {
	id, err := e.keys.Identity()
	if err != nil {
		e.t.Fatal(err)
	}
	return id.Public().([]byte)
}

func testEvent(i int) Event {
	return Event{
		Code: "auth.login.failed", Category: CategoryAuth, Severity: SeverityWarning,
		Actor: fmt.Sprintf("user%d", i), Source: "10.0.0.7:5123",
		Message: "login failed: wrong password", Fields: map[string]string{"attempt": fmt.Sprint(i)},
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
