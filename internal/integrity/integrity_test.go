package integrity

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestBootVerifiesCleanTree(t *testing.T) {
	f := newFixture(t)
	rep, err := f.checker(t, 1).VerifyBoot(context.Background())
	if err != nil {
		t.Fatalf("VerifyBoot: %v", err)
	}
	if rep.Files != 5 || rep.Bytes == 0 || len(rep.Findings) != 0 || len(rep.Signers) != 1 {
		t.Fatalf("report = %+v", rep)
	}
	if codes := f.rec.Codes(); !slices.Contains(codes, "integrity.boot.verified") {
		t.Fatalf("events = %v", codes)
	}
	if got, _ := f.floor.Get(context.Background()); got != 5 {
		t.Fatalf("floor = %d, want 5 raised by the accepted manifest", got)
	}
	if len(f.dev.Codes()) != 0 {
		t.Fatalf("device told not suitable on a clean tree: %v", f.dev.Codes())
	}
}

// TestBootAttacks: each attack of the issue is detected at boot with the
// right cause, the device is told it is not suitable, and VerifyBoot
// returns a security error.
func TestBootAttacks(t *testing.T) {
	tests := []struct {
		name   string
		attack func(t *testing.T, f *fixture)
		code   string // event code expected
		path   string
	}{
		{"one byte of an executable", func(t *testing.T, f *fixture) { flipByte(t, filepath.Join(f.root, "bin/app"), 100) },
			"integrity.file.changed", "bin/app"},
		{"executable replaced", func(t *testing.T, f *fixture) {
			copyFile(t, "/bin/true", filepath.Join(f.root, "bin/app"), 0o755)
		}, "integrity.file.changed", "bin/app"},
		{"unlisted executable", func(t *testing.T, f *fixture) {
			write(t, filepath.Join(f.root, "bin/backdoor"), "#!/bin/sh\nid\n", 0o755)
		}, "integrity.file.unlisted-executable", "bin/backdoor"},
		{"unlisted ELF without x bit", func(t *testing.T, f *fixture) {
			copyFile(t, "/bin/true", filepath.Join(f.root, "share/x"), 0o644)
		}, "integrity.file.unlisted-executable", "share/x"},
		{"setuid bit", func(t *testing.T, f *fixture) { chmod(t, filepath.Join(f.root, "bin/app"), 0o4755) },
			"integrity.file.setuid", "bin/app"},
		{"listed file deleted", func(t *testing.T, f *fixture) { rm(t, filepath.Join(f.root, "lib/libdemo.so.1")) },
			"integrity.file.missing", "lib/libdemo.so.1"},
		{"static configuration replaced", func(t *testing.T, f *fixture) {
			tmp := filepath.Join(f.root, "etc/.new")
			write(t, tmp, "rate = 9\n", 0o644)
			if err := os.Rename(tmp, filepath.Join(f.root, "etc/app.toml")); err != nil {
				t.Fatal(err)
			}
		}, "integrity.file.changed", "etc/app.toml"},
		{"symlink escapes the root", func(t *testing.T, f *fixture) {
			rm(t, filepath.Join(f.root, "etc/app.toml"))
			outside := filepath.Join(filepath.Dir(f.root), "evil.toml")
			write(t, outside, "rate = 1\n", 0o644)
			if err := os.Symlink(outside, filepath.Join(f.root, "etc/app.toml")); err != nil {
				t.Fatal(err)
			}
		}, "integrity.path.escape", "etc/app.toml"},
		{"listed symlink retargeted with ..", func(t *testing.T, f *fixture) {
			rm(t, filepath.Join(f.root, "lib/libdemo.so"))
			if err := os.Symlink("../../outside.so", filepath.Join(f.root, "lib/libdemo.so")); err != nil {
				t.Fatal(err)
			}
		}, "integrity.path.escape", "lib/libdemo.so"},
		{"directory replaced by symlink", func(t *testing.T, f *fixture) {
			outside := filepath.Join(filepath.Dir(f.root), "etc2")
			if err := os.Rename(filepath.Join(f.root, "etc"), outside); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(f.root, "etc")); err != nil {
				t.Fatal(err)
			}
		}, "integrity.path.escape", "etc/app.toml"},
		{"hard link to a file outside the root", func(t *testing.T, f *fixture) {
			outside := filepath.Join(filepath.Dir(f.root), "hl")
			if err := os.Link(filepath.Join(f.root, "bin/app"), outside); err != nil {
				t.Fatal(err)
			}
		}, "integrity.file.hardlink", "bin/app"},
		{"owner changed", func(t *testing.T, f *fixture) {
			if err := os.Lchown(filepath.Join(f.root, "etc/app.toml"), 4242, 4242); err != nil {
				t.Skip("cannot chown:", err)
			}
		}, "integrity.file.owner", "etc/app.toml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.attack(t, f)
			c := f.checker(t, 1)
			rep, err := c.VerifyBoot(context.Background())
			var se *SecurityError
			if !errors.As(err, &se) || se.Reason != ReasonTampered {
				t.Fatalf("VerifyBoot error = %v, want a tampering SecurityError", err)
			}
			found := false
			for _, fd := range rep.Findings {
				if fd.Code() == tc.code && fd.Path == tc.path {
					found = true
				}
			}
			if !found {
				t.Fatalf("findings %+v lack %s for %s", rep.Findings, tc.code, tc.path)
			}
			assertEvent(t, f, tc.code, tc.path)
			if len(f.dev.Codes()) == 0 {
				t.Fatal("device not told it is not suitable")
			}
			if c.Verified() != nil {
				t.Fatal("tampered tree accepted")
			}
			if _, err := c.OpenExecutable(context.Background(), "bin/app"); !IsSecurity(err) {
				t.Fatalf("OpenExecutable after failed boot = %v, want a security error", err)
			}
		})
	}
}

func assertEvent(t *testing.T, f *fixture, code, path string) {
	t.Helper()
	for _, e := range f.rec.Events() {
		if e.Code == code && e.Fields["path"] == path {
			if e.Category != "integrity" || e.Cause == "" || e.Action == "" || !strings.Contains(e.Cause, path) {
				t.Fatalf("event %s incomplete: %+v", code, e)
			}
			return
		}
	}
	t.Fatalf("no event %s for %s in %v", code, path, f.rec.Codes())
}

func TestManifestAttacks(t *testing.T) {
	other, _ := GenerateKey()
	third, _ := GenerateKey()
	tests := []struct {
		name      string
		prepare   func(t *testing.T, f *fixture) (threshold int, trusted []PublicKey)
		reason    Reason
		eventCode string
	}{
		{"signed by another key", func(t *testing.T, f *fixture) (int, []PublicKey) {
			f.sign(t, 5, other)
			return 1, nil
		}, ReasonBadSignature, "integrity.manifest.bad-signature"},
		{"corrupted signature", func(t *testing.T, f *fixture) (int, []PublicKey) {
			b, _ := os.ReadFile(f.manifest)
			i := strings.Index(string(b), `"sig": "`) + len(`"sig": "`)
			b[i+3] ^= 0x01
			if b[i+3] == '+' || b[i+3] == '/' {
				b[i+3] = 'A'
			}
			os.WriteFile(f.manifest, b, 0o644)
			return 1, nil
		}, ReasonBadSignature, "integrity.manifest.bad-signature"},
		{"payload changed after signing", func(t *testing.T, f *fixture) (int, []PublicKey) {
			b, _ := os.ReadFile(f.manifest)
			env, _ := ParseEnvelope(b)
			body, _ := env.DecodeB64Payload()
			body = []byte(strings.Replace(string(body), `"security_version": 5`, `"security_version": 9`, 1))
			env.Payload = b64(body)
			writeJSON(t, f.manifest, env)
			return 1, nil
		}, ReasonBadSignature, "integrity.manifest.bad-signature"},
		{"fewer signers than the threshold", func(t *testing.T, f *fixture) (int, []PublicKey) {
			f.sign(t, 5, f.key)
			return 2, []PublicKey{f.key.PublicKey(), other.PublicKey(), third.PublicKey()}
		}, ReasonThreshold, "integrity.manifest.threshold"},
		{"same key twice does not count twice", func(t *testing.T, f *fixture) (int, []PublicKey) {
			f.sign(t, 5, f.key, f.key)
			return 2, []PublicKey{f.key.PublicKey(), other.PublicKey()}
		}, ReasonThreshold, "integrity.manifest.threshold"},
		{"rollback: older manifest, validly signed", func(t *testing.T, f *fixture) (int, []PublicKey) {
			f.floor.Raise(context.Background(), 6)
			return 1, nil
		}, ReasonRollback, "integrity.manifest.rollback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			th, trusted := tc.prepare(t, f)
			c := f.checker(t, th, trusted...)
			_, err := c.VerifyBoot(context.Background())
			assertRefused(t, f, c, err, tc.reason, tc.eventCode)
		})
	}
}

func TestThresholdTwoOfThree(t *testing.T) {
	f := newFixture(t)
	k2, _ := GenerateKey()
	k3, _ := GenerateKey()
	f.sign(t, 5, f.key, k3)
	rep, err := f.checker(t, 2, f.key.PublicKey(), k2.PublicKey(), k3.PublicKey()).VerifyBoot(context.Background())
	if err != nil {
		t.Fatalf("2 of 3 signers: %v", err)
	}
	if len(rep.Signers) != 2 {
		t.Fatalf("signers = %v", rep.Signers)
	}
}

func TestFloorSurvivesAndRefusesOlder(t *testing.T) {
	f := newFixture(t)
	if _, err := f.checker(t, 1).VerifyBoot(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.sign(t, 4, f.key) // an older release, validly signed
	_, err := f.checker(t, 1).VerifyBoot(context.Background())
	var se *SecurityError
	if !errors.As(err, &se) || se.Reason != ReasonRollback {
		t.Fatalf("older manifest after newer = %v, want rollback", err)
	}
}

func TestOpenExecutableRefusesNonExecutables(t *testing.T) {
	f := newFixture(t)
	c := f.checker(t, 1)
	if _, err := c.VerifyBoot(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"etc/app.toml", "lib/libdemo.so", "bin/nope", "../root/bin/app"} {
		if _, err := c.OpenExecutable(context.Background(), p); !IsSecurity(err) {
			t.Errorf("OpenExecutable(%q) = %v, want a security error", p, err)
		}
	}
	mem, err := c.OpenExecutable(context.Background(), "bin/app")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if _, err := mem.Write([]byte("x")); err == nil {
		t.Fatal("sealed copy is writable")
	}
	// Tampering after boot: OpenExecutable verifies again.
	flipByte(t, filepath.Join(f.root, "bin/app"), 200)
	if _, err := c.OpenExecutable(context.Background(), "bin/app"); !IsSecurity(err) {
		t.Fatalf("OpenExecutable of a changed file = %v", err)
	}
	data, err := c.ReadVerified(context.Background(), "etc/app.toml")
	if err != nil || string(data) != "rate = 1\n" {
		t.Fatalf("ReadVerified = %q, %v", data, err)
	}
}

// TestRootBehindSymlink: a software root configured through a symlink
// (releases/1.4 ← software) is walked, so unlisted files are still found.
func TestRootBehindSymlink(t *testing.T) {
	f := newFixture(t)
	link := filepath.Join(filepath.Dir(f.root), "current")
	if err := os.Symlink(f.root, link); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(f.root, "bin/dropped"), "#!/bin/sh\n", 0o755)
	f.root = link
	_, err := f.checker(t, 1).VerifyBoot(context.Background())
	if !IsSecurity(err) {
		t.Fatalf("unlisted executable behind a symlinked root: %v", err)
	}
	assertEvent(t, f, "integrity.file.unlisted-executable", "bin/dropped")
}

// TestUnlistedDataIsAWarning: an unlisted file that cannot run is
// reported as a warning; the device stays suitable.
func TestUnlistedDataIsAWarning(t *testing.T) {
	f := newFixture(t)
	write(t, filepath.Join(f.root, "share/notes.txt"), "hello\n", 0o644)
	rep, err := f.checker(t, 1).VerifyBoot(context.Background())
	if err != nil {
		t.Fatalf("VerifyBoot: %v", err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Kind != FindingUnlisted || rep.Findings[0].Critical() {
		t.Fatalf("findings = %+v", rep.Findings)
	}
	for _, e := range f.rec.Events() {
		if e.Code == "integrity.file.unlisted" && e.Severity != 4 {
			t.Fatalf("severity %v, want warning", e.Severity)
		}
	}
	if len(f.dev.Codes()) != 0 {
		t.Fatal("device told not suitable for an unlisted data file")
	}
}

// TestUnlistedSpecialFileIsAWarning: a FIFO or socket left in the root
// cannot run; it is reported (a warning), never opened, and the device
// stays suitable.
func TestUnlistedSpecialFileIsAWarning(t *testing.T) {
	f := newFixture(t)
	if err := syscall.Mkfifo(filepath.Join(f.root, "share/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock, err := net.Listen("unix", filepath.Join(f.root, "share/sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	rep, err := f.checker(t, 1).VerifyBoot(context.Background())
	if err != nil {
		t.Fatalf("VerifyBoot: %v (findings %+v)", err, rep.Findings)
	}
	if len(rep.Findings) != 2 || rep.Findings[0].Kind != FindingUnlisted || rep.Findings[1].Kind != FindingUnlisted {
		t.Fatalf("findings = %+v, want two unlisted warnings", rep.Findings)
	}
}
