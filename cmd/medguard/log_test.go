package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/keystore"
)

// "log test-write" exists only in the test binary: it writes events into
// the log of a state directory with the real key store, standing in for
// the daemon in the log testscripts.
func init() {
	register(&command{
		name:    "log test-write",
		summary: "(tests only) record N test events into the state directory's log",
		usage:   "medguard log test-write [--config FILE] [--state-dir DIR] [--n N]",
		example: "medguard log test-write --config medguard.toml --n 50",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := newFlags("log test-write")
			var sf storeFlags
			sf.register(fs)
			n := fs.Int("n", 10, "events")
			if _, err := parseFlags(fs, args); err != nil {
				return err
			}
			s, cfg, err := sf.open()
			if err != nil {
				return err
			}
			defer s.Close()
			l, err := eventlog.Open(eventlog.Config{
				Dir: filepath.Join(cfg.Device.StateDir, "log"), Keys: s, BootID: fmt.Sprintf("test-%d", os.Getpid()),
				DeviceName: cfg.Device.Name, EpochEntries: 16, CheckpointEntries: 8, FloodBurst: -1,
			})
			if err != nil {
				return err
			}
			for i := range *n {
				_, err := l.Record(ctx, eventlog.Event{Code: "auth.login.failed", Category: eventlog.CategoryAuth,
					Severity: eventlog.SeverityWarning, Actor: fmt.Sprintf("user%d", i), Source: "10.0.0.7:5123",
					Message: "login failed: wrong password"})
				if err != nil {
					l.Close()
					return err
				}
			}
			return l.Close()
		},
	})
}

// TestLogVerifyExitCodes pins the exit codes of ARCHITECTURE.md for
// medguard log verify, on the device (--config, --state-dir) and offline
// (--key FILE LOGDIR), each with --checkpoint: 0 verified, 1 damage found
// (tampering, a forged checkpoint, another device's key), 2 usage or I/O
// error (including a wrong passphrase and a malformed checkpoint file).
func TestLogVerifyExitCodes(t *testing.T) {
	d := newSealedFileDevice(t)
	other := newSealedFileDevice(t)
	p := func(n string) string { return filepath.Join(d.dir, n) }
	must := func(dev *keysDevice, args ...string) string {
		t.Helper()
		code, out, stderr := dev.run(t, nil, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return out
	}
	must(d, "log", "test-write", "--n", "40")
	must(other, "log", "test-write", "--n", "5")
	pass := append(randomPassphrase(t), '\n')
	os.WriteFile(p("pass"), pass, 0o600)
	os.WriteFile(p("wrong-pass"), append(randomPassphrase(t), '\n'), 0o600)
	must(d, "keys", "export-log-verifier", "--passphrase-file", p("pass"), "--out", p("v.age"))
	must(other, "keys", "export-log-verifier", "--passphrase-file", p("pass"), "--out", p("other.age"))
	os.WriteFile(p("cp"), []byte(must(d, "log", "checkpoint")), 0o600)
	os.WriteFile(p("other-cp"), []byte(must(other, "log", "checkpoint")), 0o600)
	cp, _ := os.ReadFile(p("cp"))
	lines := strings.SplitN(string(cp), "\n", 3)
	os.WriteFile(p("forged-cp"), []byte(lines[0]+"\n9999\n"+lines[2]), 0o600)
	os.WriteFile(p("garbage-cp"), []byte("not a checkpoint"), 0o600)
	state := filepath.Join(d.dir, "state")
	logDir := filepath.Join(state, "log")

	// Copies of the log, damaged as an attacker would.
	copyLog := func(name string, damage func(seg string)) string {
		dst := p(name)
		os.MkdirAll(dst, 0o700)
		segs, _ := filepath.Glob(filepath.Join(logDir, "seg-*.log"))
		for _, s := range segs {
			b, _ := os.ReadFile(s)
			os.WriteFile(filepath.Join(dst, filepath.Base(s)), b, 0o600)
		}
		if damage != nil {
			damage(filepath.Join(dst, filepath.Base(segs[0])))
		}
		return dst
	}
	clean := copyLog("clean", nil)
	modified := copyLog("modified", func(seg string) {
		b, _ := os.ReadFile(seg)
		os.WriteFile(seg, []byte(strings.Replace(string(b), "wrong password", "right password", 1)), 0o600)
	})
	truncated := copyLog("truncated", func(seg string) {
		b, _ := os.ReadFile(seg)
		ls := strings.SplitAfter(string(b), "\n")
		os.WriteFile(seg, []byte(strings.Join(ls[:len(ls)-4], "")), 0o600)
	})
	key := []string{"--key", p("v.age"), "--passphrase-file", p("pass")}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"device", []string{"--config", d.config}, 0},
		{"device --state-dir", []string{"--config", d.config, "--state-dir", state}, 0},
		{"device --checkpoint", []string{"--config", d.config, "--checkpoint", p("cp")}, 0},
		{"device --json", []string{"--config", d.config, "--json"}, 0},
		{"offline", append(key, clean), 0},
		{"offline --checkpoint", append(key, "--checkpoint", p("cp"), clean), 0},
		{"modified", append(key, modified), 1},
		{"modified --json", append(key, "--json", modified), 1},
		{"truncated, checkpoint shows it", append(key, "--checkpoint", p("cp"), truncated), 1},
		{"forged checkpoint", append(key, "--checkpoint", p("forged-cp"), clean), 1},
		{"checkpoint of another device", append(key, "--checkpoint", p("other-cp"), clean), 1},
		{"device, checkpoint of another device", []string{"--config", d.config, "--checkpoint", p("other-cp")}, 1},
		{"another device's verifier key", []string{"--key", p("other.age"), "--passphrase-file", p("pass"), clean}, 1},
		{"malformed checkpoint file", append(key, "--checkpoint", p("garbage-cp"), clean), 2},
		{"missing checkpoint file", append(key, "--checkpoint", p("nope"), clean), 2},
		{"wrong passphrase", []string{"--key", p("v.age"), "--passphrase-file", p("wrong-pass"), clean}, 2},
		{"missing log", append(key, p("nope")), 2},
		{"neither key nor device", []string{clean}, 2},
		{"both key and device", append(key, "--config", d.config, clean), 2},
		{"bad flag", append(key, "--bogus", clean), 2},
	}
	for _, tc := range tests {
		code, out, stderr := runCLI(t, nil, append([]string{"log", "verify"}, tc.args...)...)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", tc.name, code, tc.code, out, stderr)
		}
	}
	// Verification reads and changes nothing.
	if code, out, _ := runCLI(t, nil, append([]string{"log", "verify", "--json"}, append(key, clean)...)...); code != 0 || !strings.Contains(out, `"ok": true`) {
		t.Fatalf("the clean copy no longer verifies: %s", out)
	}
}

func TestCheckpointSummaryWording(t *testing.T) {
	for _, tc := range []struct {
		r    eventlog.Report
		want string
	}{
		{eventlog.Report{OK: true, Checkpoints: 3, LastCheckpoint: 2048}, "3 verified (signed by the device, matching the records); the newest covers records 1 to 2048"},
		{eventlog.Report{OK: true}, "none yet ("},
		{eventlog.Report{}, "none verified"},
		{eventlog.Report{CheckpointsUnverified: 2}, "none verified; 2 in the log did not verify (see the damage)"},
		{eventlog.Report{Checkpoints: 1, LastCheckpoint: 9, CheckpointsUnverified: 1}, "1 verified (signed by the device, matching the records); the newest covers records 1 to 9; 1 in the log did not verify"},
	} {
		if got := checkpointSummary(&tc.r); !strings.HasPrefix(got, tc.want) {
			t.Errorf("checkpointSummary(%+v) = %q, want prefix %q", tc.r, got, tc.want)
		}
	}
}

// While the daemon holds the log, log erase-root-key refuses, says why,
// and erases nothing.
func TestLogEraseRootKeyWhileDaemonRuns(t *testing.T) {
	d := newSealedFileDevice(t)
	pass := filepath.Join(d.dir, "pass")
	os.WriteFile(pass, append(randomPassphrase(t), '\n'), 0o600)
	for _, args := range [][]string{
		{"log", "test-write", "--n", "3"},
		{"keys", "export-log-verifier", "--passphrase-file", pass, "--out", filepath.Join(d.dir, "v.age")},
	} {
		if code, _, stderr := d.run(t, nil, args...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	s, err := keystore.OpenFromConfig(filepath.Join(d.dir, "state"), keystore.Config{Backend: "sealed-file", KEKFile: filepath.Join(d.dir, "kek")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := eventlog.Open(eventlog.Config{Dir: filepath.Join(d.dir, "state", "log"), Keys: s, BootID: "daemon", DeviceName: "dev-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	code, _, stderr := d.run(t, nil, "log", "erase-root-key", "--verifier", filepath.Join(d.dir, "v.age"), "--passphrase-file", pass)
	if code != 2 || !strings.Contains(stderr, "stop medguardd first") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := s.Secret(keystore.ItemLogRootKey); err != nil {
		t.Fatalf("the root key is gone after a refused erasure: %v", err)
	}
}
