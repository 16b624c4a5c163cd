package integrity

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/medguard/medguard/internal/eventlog/eventlogtest"
)

// fakeDevice records NotSuitable calls.
type fakeDevice struct {
	mu     sync.Mutex
	causes []string
	codes  []string
}

func (d *fakeDevice) NotSuitable(_ context.Context, code, cause, action string) {
	if action == "" {
		panic("NotSuitable without an action")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.codes = append(d.codes, code)
	d.causes = append(d.causes, cause)
}

func (d *fakeDevice) Codes() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.codes...)
}

// fixture is a software root with a signed manifest.
type fixture struct {
	root, manifest string
	key            *PrivateKey
	rec            *eventlogtest.Memory
	dev            *fakeDevice
	floor          *MemoryFloor
}

func write(t testing.TB, p string, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// copyFile copies src to dst with mode.
func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dst, string(b), mode)
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{root: filepath.Join(base, "root"), manifest: filepath.Join(base, "manifest.dsse.json"),
		rec: &eventlogtest.Memory{}, dev: &fakeDevice{}, floor: &MemoryFloor{}}
	copyFile(t, "/bin/echo", filepath.Join(f.root, "bin/app"), 0o755)
	write(t, filepath.Join(f.root, "lib/libdemo.so.1"), "\x7fELF library bytes", 0o644)
	write(t, filepath.Join(f.root, "etc/app.toml"), "rate = 1\n", 0o644)
	write(t, filepath.Join(f.root, "share/doc/README.md"), "# demo\n", 0o644)
	if err := os.Symlink("libdemo.so.1", filepath.Join(f.root, "lib/libdemo.so")); err != nil {
		t.Fatal(err)
	}
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	f.key = k
	f.sign(t, 5, k)
	return f
}

// sign builds and signs the manifest of the root as it is now.
func (f *fixture) sign(t testing.TB, secver uint64, keys ...Signer) {
	t.Helper()
	m, err := Build(context.Background(), f.root, BuildOptions{Product: "demo", Version: "1.0", SecurityVersion: secver})
	if err != nil {
		t.Fatal(err)
	}
	env, err := Sign(context.Background(), m, keys...)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.manifest, env, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) checker(t testing.TB, threshold int, trusted ...PublicKey) *Checker {
	t.Helper()
	if len(trusted) == 0 {
		trusted = []PublicKey{f.key.PublicKey()}
	}
	c, err := New(Config{Root: f.root, ManifestFile: f.manifest, TrustedKeys: trusted, Threshold: threshold,
		Floor: f.floor, Recorder: f.rec, Device: f.dev, RehashBudget: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
