package integrity

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/state"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// assertRefused checks that a boot verification was refused for reason,
// with the event code recorded and told to the device, and that nothing
// from the root can be started or read afterwards.
func assertRefused(t *testing.T, f *fixture, c *Checker, err error, reason Reason, code string) {
	t.Helper()
	var se *SecurityError
	if !errors.As(err, &se) || se.Reason != reason {
		t.Fatalf("VerifyBoot = %v, want reason %s", err, reason)
	}
	if !slices.Contains(f.rec.Codes(), code) || !slices.Contains(f.dev.Codes(), code) {
		t.Fatalf("events %v / device %v lack %s", f.rec.Codes(), f.dev.Codes(), code)
	}
	if c.Verified() != nil {
		t.Fatal("refused manifest accepted")
	}
	if mem, err := c.OpenExecutable(context.Background(), "bin/app"); !IsSecurity(err) {
		if mem != nil {
			mem.Close()
		}
		t.Fatalf("OpenExecutable after a refused manifest = %v, want a security error", err)
	}
	if _, err := c.ReadVerified(context.Background(), "etc/app.toml"); !IsSecurity(err) {
		t.Fatalf("ReadVerified after a refused manifest = %v, want a security error", err)
	}
}

// TestReleaseSignedByAnotherKey: the attacker replaces the executable with
// their own and ships a consistent manifest for it, signed by their own
// key. The tree matches that manifest exactly; the signature is what
// refuses it, and nothing runs.
func TestReleaseSignedByAnotherKey(t *testing.T) {
	f := newFixture(t)
	copyFile(t, "/bin/true", filepath.Join(f.root, "bin/app"), 0o755)
	attacker, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	f.sign(t, 9, attacker) // a higher security version does not help
	c := f.checker(t, 1)
	_, err = c.VerifyBoot(context.Background())
	assertRefused(t, f, c, err, ReasonBadSignature, "integrity.manifest.bad-signature")
	if got, _ := f.floor.Get(context.Background()); got != 0 {
		t.Fatalf("floor raised to %d by an untrusted manifest", got)
	}
}

// TestSignedManifestWithEscapingPath: even a manifest signed by a trusted
// key (a broken build, a stolen key used carelessly) may not name a path
// outside the root: "..", absolute, or a symlink target that leaves it.
// It is refused as malformed and nothing runs.
func TestSignedManifestWithEscapingPath(t *testing.T) {
	outside := "../outside/app"
	tests := map[string]func(m *Manifest){
		"dotdot path": func(m *Manifest) {
			m.Files = append([]Entry{{Path: outside, Kind: KindExecutable, Size: 1, Mode: 0o755,
				SHA256: "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}, m.Files...)
		},
		"absolute path": func(m *Manifest) {
			m.Files = append([]Entry{{Path: "/usr/bin/id", Kind: KindExecutable, Size: 1, Mode: 0o755,
				SHA256: "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}, m.Files...)
		},
		"symlink target leaves the root": func(m *Manifest) {
			for i := range m.Files {
				if m.Files[i].Kind == KindSymlink {
					m.Files[i].Target = "../../" + outside
				}
			}
		},
		// Lexically both stay inside; the kernel resolves x/y/d to x, so
		// x/y/a climbs x → root → the root's parent.
		"symlink escapes through another symlink": func(m *Manifest) {
			m.Files = append(m.Files, Entry{Path: "x/y/d", Kind: KindSymlink, Mode: 0o777, Target: ".."},
				Entry{Path: "x/y/a", Kind: KindSymlink, Mode: 0o777, Target: "d/../../../outside"})
			sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
		},
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			m, err := Build(context.Background(), f.root, BuildOptions{Product: "demo", Version: "1.0", SecurityVersion: 5})
			if err != nil {
				t.Fatal(err)
			}
			mutate(m)
			body, err := json.Marshal(m) // not m.Marshal: that would refuse it
			if err != nil {
				t.Fatal(err)
			}
			es, err := dsse.NewEnvelopeSigner(f.key)
			if err != nil {
				t.Fatal(err)
			}
			env, err := es.SignPayload(context.Background(), PayloadType, body)
			if err != nil {
				t.Fatal(err)
			}
			writeJSON(t, f.manifest, env)
			c := f.checker(t, 1)
			_, err = c.VerifyBoot(context.Background())
			assertRefused(t, f, c, err, ReasonMalformed, "integrity.manifest.malformed")
		})
	}
}

// TestRollbackRefusedAfterRestart: the device accepts security version 5
// and is restarted (the state store closed and opened again); a validly
// signed release with security version 4 is then refused, and nothing
// runs.
func TestRollbackRefusedAfterRestart(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "state.db")
	open := func() *state.Bolt {
		st, err := state.OpenBolt(dbPath, keystore.NewSecret(append([]byte(nil), key...)))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	f := newFixture(t)
	old, err := os.ReadFile(f.manifest) // the older release: version 4, saved for the attacker
	if err != nil {
		t.Fatal(err)
	}
	f.sign(t, 6, f.key) // the current release
	st := open()
	c, err := New(Config{Root: f.root, ManifestFile: f.manifest, TrustedKeys: []PublicKey{f.key.PublicKey()},
		Threshold: 1, Floor: StateFloor{Store: st}, Recorder: f.rec, Device: f.dev})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyBoot(ctx); err != nil {
		t.Fatalf("first boot: %v", err)
	}
	c.Close()
	st.Close()

	// Restart with the older manifest in place (newFixture signed it with
	// security version 5, below the accepted 6).
	if err := os.WriteFile(f.manifest, old, 0o644); err != nil {
		t.Fatal(err)
	}
	st = open()
	defer st.Close()
	c, err = New(Config{Root: f.root, ManifestFile: f.manifest, TrustedKeys: []PublicKey{f.key.PublicKey()},
		Threshold: 1, Floor: StateFloor{Store: st}, Recorder: f.rec, Device: f.dev})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.VerifyBoot(ctx)
	assertRefused(t, f, c, err, ReasonRollback, "integrity.manifest.rollback")
	if v, _ := (StateFloor{Store: st}).Get(ctx); v != 6 {
		t.Fatalf("floor after the refused rollback = %d, want 6", v)
	}
}

// TestListedFileReplacedByHardLink: a listed file replaced by a hard link
// to a file outside the root with the same content and mode is still
// refused: whoever can write the outside name can change the file later
// without touching the root.
func TestListedFileReplacedByHardLink(t *testing.T) {
	f := newFixture(t)
	outside := filepath.Join(filepath.Dir(f.root), "app-outside")
	copyFile(t, filepath.Join(f.root, "bin/app"), outside, 0o755)
	rm(t, filepath.Join(f.root, "bin/app"))
	if err := os.Link(outside, filepath.Join(f.root, "bin/app")); err != nil {
		t.Fatal(err)
	}
	c := f.checker(t, 1)
	rep, err := c.VerifyBoot(context.Background())
	if !IsSecurity(err) {
		t.Fatalf("VerifyBoot = %v, want a security error", err)
	}
	if fd, _ := rep.FirstCritical(); fd.Kind != FindingHardlink || fd.Path != "bin/app" {
		t.Fatalf("first finding %+v, want file.hardlink for bin/app", fd)
	}
	assertEvent(t, f, "integrity.file.hardlink", "bin/app")
	if _, err := c.OpenExecutable(context.Background(), "bin/app"); !IsSecurity(err) {
		t.Fatalf("OpenExecutable = %v, want a security error", err)
	}
}

// TestLinkStaysInside: the rule every symlink target of a manifest, a
// release tree and a verified root obeys.
func TestLinkStaysInside(t *testing.T) {
	tests := []struct {
		path, target string
		ok           bool
	}{
		{"lib/libx.so", "libx.so.1", true},
		{"bin/x", "../lib/x", true},
		{"a/b/c", "../../d/e", true},
		{"a/b/c", "./d", true},
		{"x/y/d", "..", true}, // resolves to x
		{"lib/x", "../../etc/passwd", false},
		{"x", "/etc/passwd", false},
		{"x", ".", false},
		{"a/x", "..", false}, // the root itself
		{"x/y/a", "d/../../../outside", false},
		{"x/y/a", "d/../z", false}, // ".." after a name may follow a symlink
		{"x", "", false},
	}
	for _, tc := range tests {
		if got := linkStaysInside(tc.path, tc.target); got != tc.ok {
			t.Errorf("linkStaysInside(%q, %q) = %v, want %v", tc.path, tc.target, got, tc.ok)
		}
	}
}

// TestBuildRefusesSymlinkEscapingThroughSymlink: the release side refuses
// a tree a device would refuse.
func TestBuildRefusesSymlinkEscapingThroughSymlink(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	write(t, filepath.Join(root, "x/y/f"), "data", 0o644)
	if err := os.Symlink("..", filepath.Join(root, "x/y/d")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("d/../../../outside", filepath.Join(root, "x/y/a")); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), root, BuildOptions{Product: "p", Version: "1"})
	if err == nil || !strings.Contains(err.Error(), "x/y/a: symlink to") {
		t.Fatalf("Build = %v, want the escaping symlink named", err)
	}
}

// TestSealedCopyIsAlwaysTheVerifiedBytes: while the executable on disk is
// rewritten in place over and over (same size, other content), every copy
// OpenExecutable hands out holds exactly the signed bytes; the others are
// refused. A rewrite between the metadata check and the copy, or during
// the copy, cannot reach what is executed.
func TestSealedCopyIsAlwaysTheVerifiedBytes(t *testing.T) {
	f := newFixture(t)
	c := f.checker(t, 1)
	if _, err := c.VerifyBoot(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(f.root, "bin/app")
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	evil := append([]byte(nil), good...)
	for i := 0; i < len(evil); i += 512 {
		evil[i] ^= 0xff
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		w, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer w.Close()
		for i := 0; ; i++ {
			select {
			case <-stop:
				w.WriteAt(good, 0)
				return
			default:
			}
			if i%2 == 0 {
				w.WriteAt(evil, 0)
			} else {
				w.WriteAt(good, 0)
			}
		}
	}()
	for range 100 {
		mem, err := c.OpenExecutable(context.Background(), "bin/app")
		if err != nil {
			if !IsSecurity(err) {
				t.Fatalf("OpenExecutable = %v, want a security error or the verified copy", err)
			}
			continue
		}
		got, err := io.ReadAll(io.NewSectionReader(mem, 0, int64(len(good))+1))
		mem.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, good) {
			t.Fatal("a sealed copy differs from the signed bytes")
		}
	}
	close(stop)
	<-done
}
