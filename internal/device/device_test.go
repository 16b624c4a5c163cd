package device

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/integrity"
	"github.com/medguard/medguard/internal/keystore"
)

// testDevice returns a configuration with a sealed-file key store in a
// fresh directory, and the state directory.
func testConfig(t *testing.T) (Config, string) {
	t.Helper()
	root := t.TempDir()
	stateDir := filepath.Join(root, "state")
	if err := os.Mkdir(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	kek := filepath.Join(root, "kek")
	if err := keystore.CreateKEKFile(kek); err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	c.Device.StateDir = stateDir
	c.KeyStore.Backend = "sealed-file"
	c.KeyStore.KEKFile = kek
	c.API.Listen = "127.0.0.1:0"
	c.API.Socket = filepath.Join(stateDir, "run", "api.sock")
	c.Integrity = signedSoftware(t, filepath.Join(root, "software"))
	return Config{Config: c, Console: &syncBuffer{}}, stateDir
}

// syncBuffer is the console of a test device: written by the device,
// read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// signedSoftware builds a software root in dir whose one program, a copy
// of /bin/sh, writes the file "started" beside dir when it starts and then
// waits; the manifest is signed with a key made for the test, which the
// returned table trusts.
func signedSoftware(t *testing.T, dir string) config.Integrity {
	t.Helper()
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Skipf("no /bin/sh to build a software root from: %v", err)
	}
	mark := filepath.Join(filepath.Dir(dir), "started")
	files := map[string]struct {
		data []byte
		mode os.FileMode
	}{
		"bin/app": {sh, 0o755},
		"etc/supervisor.toml": {[]byte(fmt.Sprintf(`[[program]]
name = "app"
path = "bin/app"
args = ["-c", "echo started > %s; exec /bin/sleep 3600"]
restart = "always"
`, mark)), 0o644},
	}
	for name, f := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	m, err := integrity.Build(ctx, dir, integrity.BuildOptions{Product: "device-test", Version: "1.0.0", SecurityVersion: 3})
	if err != nil {
		t.Fatal(err)
	}
	key, err := integrity.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	env, err := integrity.Sign(ctx, m, key)
	if err != nil {
		t.Fatal(err)
	}
	mf := filepath.Join(filepath.Dir(dir), "manifest.dsse.json")
	if err := os.WriteFile(mf, env, 0o644); err != nil {
		t.Fatal(err)
	}
	it := config.Default().Integrity
	it.SoftwareRoot, it.Manifest = dir, mf
	it.TrustedKeys = []string{key.PublicKey().String()}
	return it
}

// started reports whether the test software's program ran (signedSoftware).
func started(cfg Config) bool {
	_, err := os.Stat(filepath.Join(filepath.Dir(cfg.Config.Integrity.SoftwareRoot), "started"))
	return err == nil
}

// boot runs a device until it leaves booting, then stops it. It returns
// the state reached and Run's error.
func boot(t *testing.T, cfg Config) (State, error) {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		return "", err
	}
	ch, cancel := d.Machine.Subscribe(4)
	defer cancel()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	select {
	case tr := <-ch:
		stop()
		return tr.To, <-done
	case err := <-done:
		stop()
		return d.Machine.State(), err
	case <-time.After(30 * time.Second):
		stop()
		t.Fatal("device did not finish booting in 30 s")
	}
	return "", nil
}

// snapshot describes every file below dir: path, mode and content hash.
// The event log and its sealed state are left out: a refused boot is
// itself a security event, recorded when the log is open.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Name() == "log" || e.Name() == "log-state.sealed" {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		fi, _ := e.Info()
		h := ""
		if e.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			h = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		lines = append(lines, fmt.Sprintf("%s %v %s", p, fi.Mode(), h))
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestBootAndRestart(t *testing.T) {
	cfg, stateDir := testConfig(t)
	for i := range 2 {
		st, err := boot(t, cfg)
		if err != nil || st != Provisioning {
			t.Fatalf("boot %d: state %s, err %v", i, st, err)
		}
	}
	for _, p := range []string{"keys/identity.sealed", "keys/data-key.sealed", "state.db"} {
		fi, err := os.Stat(filepath.Join(stateDir, p))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: readable by others", p, fi.Mode())
		}
	}
}

func TestBootReport(t *testing.T) {
	cfg, _ := testConfig(t)
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch, cancel := d.Machine.Subscribe(1)
	defer cancel()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	<-ch
	r := d.Report()
	stop()
	<-done
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
		if c.Result != Passed {
			t.Errorf("check %s: %s (%s)", c.Name, c.Result, c.Detail)
		}
	}
	if got := strings.Join(names, ","); !strings.HasPrefix(got, "state-dir,keystore,event-log,state-database,settings,software,listeners,notifications") {
		t.Errorf("checks ran in order %s", got)
	}
	if r.BootID != d.BootID() || r.Finished.Before(r.Started) {
		t.Errorf("report %+v", r)
	}
}

// Bad input stops the boot with one message naming the file and the
// reason, and changes nothing on disk.
func TestBootRefusesBadInput(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, cfg *Config, stateDir string)
		wantMsg []string
		logged  bool // the failure comes after the log is open
	}{
		{"missing state dir", func(t *testing.T, cfg *Config, stateDir string) {
			cfg.Config.Device.StateDir = filepath.Join(stateDir, "nope")
		}, []string{"nope", "does not exist"}, false},
		{"state dir readable by others", func(t *testing.T, cfg *Config, stateDir string) {
			os.Chmod(stateDir, 0o755)
		}, []string{"state directory", "0755"}, false},
		{"corrupt key file", func(t *testing.T, cfg *Config, stateDir string) {
			p := filepath.Join(stateDir, "keys", "identity.sealed")
			b, _ := os.ReadFile(p)
			b[len(b)-3] ^= 0x40
			os.WriteFile(p, b, 0o600)
		}, []string{"identity.sealed"}, false},
		{"truncated key file", func(t *testing.T, cfg *Config, stateDir string) {
			p := filepath.Join(stateDir, "keys", "identity.sealed")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o600)
		}, []string{"identity.sealed"}, false},
		{"foreign key file", func(t *testing.T, cfg *Config, stateDir string) {
			// A key file sealed by another device (another KEK).
			other, otherState := testConfig(t)
			if st, err := boot(t, other); err != nil || st != Provisioning {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(filepath.Join(otherState, "keys", "identity.sealed"))
			os.WriteFile(filepath.Join(stateDir, "keys", "identity.sealed"), b, 0o600)
		}, []string{"identity.sealed"}, false},
		{"missing key-encryption key", func(t *testing.T, cfg *Config, stateDir string) {
			os.Remove(cfg.Config.KeyStore.KEKFile)
		}, []string{"kek"}, false},
		{"corrupt data key", func(t *testing.T, cfg *Config, stateDir string) {
			flipByte(t, filepath.Join(stateDir, "keys", "data-key.sealed"))
		}, []string{"data-key.sealed", "fails authentication"}, true},
		{"corrupt TLS key", func(t *testing.T, cfg *Config, stateDir string) {
			flipByte(t, filepath.Join(stateDir, "keys", "tls-key.sealed"))
		}, []string{"tls-key.sealed", "fails authentication"}, true},
		{"corrupt event log state", func(t *testing.T, cfg *Config, stateDir string) {
			flipByte(t, filepath.Join(stateDir, "keys", "log-state.sealed"))
		}, []string{"log-state.sealed", "fails authentication"}, false},
		{"TLS certificate not PEM", func(t *testing.T, cfg *Config, stateDir string) {
			os.WriteFile(filepath.Join(stateDir, "keys", "tls-cert.pem"), []byte("not a certificate\n"), 0o644)
		}, []string{"tls-cert.pem", "no PEM certificate"}, true},
		{"deleted identity key", func(t *testing.T, cfg *Config, stateDir string) {
			// Attack: delete the identity so that the device starts a new
			// history under a new key. Only a first start creates one.
			os.Remove(filepath.Join(stateDir, "keys", "identity.sealed"))
		}, []string{"identity.sealed", "is missing", "event log"}, false},
		{"deleted data key", func(t *testing.T, cfg *Config, stateDir string) {
			os.Remove(filepath.Join(stateDir, "keys", "data-key.sealed"))
		}, []string{"data-key.sealed", "is missing", "state.db"}, true},
		{"corrupt state database", func(t *testing.T, cfg *Config, stateDir string) {
			os.WriteFile(filepath.Join(stateDir, "state.db"), bytes.Repeat([]byte{0xAB}, 8192), 0o600)
		}, []string{"state.db"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, stateDir := testConfig(t)
			if st, err := boot(t, cfg); err != nil || st != Provisioning {
				t.Fatalf("first boot: %s %v", st, err)
			}
			tt.damage(t, &cfg, stateDir)
			before := snapshot(t, filepath.Dir(stateDir))
			st, err := boot(t, cfg)
			if err == nil {
				t.Fatalf("boot succeeded (state %s)", st)
			}
			if st == Operational {
				t.Errorf("device became operational")
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if after := snapshot(t, filepath.Dir(stateDir)); after != before {
				t.Errorf("a refused boot changed the disk:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if tt.logged {
				segs, _ := filepath.Glob(filepath.Join(stateDir, "log", "seg-*"))
				var all []byte
				for _, s := range segs {
					b, _ := os.ReadFile(s)
					all = append(all, b...)
				}
				if !bytes.Contains(all, []byte(`"device.boot.failed"`)) {
					t.Errorf("the refused boot is not in the event log")
				}
			}
		})
	}
}

// flipByte changes one byte in the middle of the file at p.
func flipByte(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// start boots a device and leaves it running until the test ends.
func start(t *testing.T, cfg Config) *Device {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch, cancel := d.Machine.Subscribe(4)
	defer cancel()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-ch:
	case err := <-done:
		t.Fatalf("boot failed: %v", err)
	}
	return d
}

// A device that becomes not suitable shows the clinical warning, with its
// cause, on the local status the clinical application reads.
func TestNotSuitableReachesClinicalStatus(t *testing.T) {
	cfg, _ := testConfig(t)
	d := start(t, cfg)
	if st := d.Status(); len(st.Warnings) != 0 || st.State != string(Provisioning) {
		t.Fatalf("fresh device status %+v", st)
	}
	cause := "bin/vitalsim changed: SHA-256 differs from the signed manifest"
	if _, err := d.Machine.Move(context.Background(), NotSuitable, cause, "use another device"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := d.Status()
		if st.State != string(NotSuitable) || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0].Cause, "bin/vitalsim changed") {
			t.Fatalf("status %+v: want state not-suitable and exactly one warning with the cause", st)
		}
		if strings.Contains(st.Warnings[0].Action, "biomedical engineering") {
			return // the notifier's warning, from the event in the log
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed the warning: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The clinical application starts from the verified software root.
func TestVerifiedSoftwareStarts(t *testing.T) {
	cfg, _ := testConfig(t)
	d := start(t, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for !started(cfg) {
		if time.Now().After(deadline) {
			t.Fatalf("the verified program did not start; state %s, report %+v", d.Machine.State(), d.Report())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Software that does not verify makes the device not suitable at boot:
// the daemon keeps running (the admin can reach it and read why), the
// clinical status names the cause, and the program is never started.
func TestBadSoftwareIsNotSuitable(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, c *config.Integrity)
		cause  string
	}{
		{"changed executable", func(t *testing.T, c *config.Integrity) {
			f, err := os.OpenFile(filepath.Join(c.SoftwareRoot, "bin/app"), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte{0x90}, 100)
			f.Close()
		}, "bin/app"},
		{"unlisted executable", func(t *testing.T, c *config.Integrity) {
			os.WriteFile(filepath.Join(c.SoftwareRoot, "bin/dropper"), []byte("#!/bin/sh\n"), 0o755)
		}, "bin/dropper"},
		{"untrusted signer", func(t *testing.T, c *config.Integrity) {
			k, _ := integrity.GenerateKey()
			c.TrustedKeys = []string{k.PublicKey().String()}
		}, "signature"},
		{"no trusted keys (the default)", func(t *testing.T, c *config.Integrity) {
			c.TrustedKeys = nil
		}, ""},
		{"missing manifest", func(t *testing.T, c *config.Integrity) {
			os.Remove(c.Manifest)
		}, "manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := testConfig(t)
			tt.damage(t, &cfg.Config.Integrity)
			d := start(t, cfg)
			if s := d.Machine.State(); s != NotSuitable {
				t.Fatalf("state %s, want not-suitable", s)
			}
			st := d.Status()
			if len(st.Warnings) == 0 || !strings.Contains(st.Warnings[0].Cause, tt.cause) {
				t.Errorf("clinical status %+v: want a warning naming %q", st, tt.cause)
			}
			var sw Check
			for _, c := range d.Report().Checks {
				if c.Name == "software" {
					sw = c
				}
			}
			if sw.Result != Failed {
				t.Errorf("boot report software check %+v, want failed", sw)
			}
			time.Sleep(300 * time.Millisecond)
			if started(cfg) {
				t.Errorf("the clinical application was started from software that does not verify")
			}
		})
	}
}

// A file changed while the device runs makes it not suitable.
func TestSoftwareChangedWhileRunning(t *testing.T) {
	cfg, _ := testConfig(t)
	d := start(t, cfg)
	p := filepath.Join(cfg.Config.Integrity.SoftwareRoot, "etc/supervisor.toml")
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("# changed\n")
	f.Close()
	deadline := time.Now().Add(10 * time.Second)
	for d.Machine.State() != NotSuitable {
		if time.Now().After(deadline) {
			t.Fatalf("state %s 10 s after a change of a signed file", d.Machine.State())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c := d.Machine.Current().Cause; !strings.Contains(c, "etc/supervisor.toml") {
		t.Errorf("cause %q does not name the file", c)
	}
}

// The device serves its maker's security.txt to anyone, before
// provisioning too, and nothing when no contact is configured.
func TestSecurityTxt(t *testing.T) {
	get := func(d *Device) (int, string) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		resp, err := c.Get("https://" + d.apiAddr + "/.well-known/security.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cfg, _ := testConfig(t)
	if code, _ := get(start(t, cfg)); code == http.StatusOK {
		t.Errorf("security.txt served without a configured contact")
	}
	cfg, _ = testConfig(t)
	cfg.Config.Disclosure.Contact = []string{"mailto:psirt@maker.example"}
	cfg.Config.Disclosure.CSAF = "https://maker.example/.well-known/csaf/provider-metadata.json"
	fixed := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	cfg.Now = func() time.Time { return fixed }
	d := start(t, cfg)
	code, body := get(d)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	for _, want := range []string{"Contact: mailto:psirt@maker.example", "Expires: 2027-03-03T12:00:00Z", "CSAF: https://maker.example/"} {
		if !strings.Contains(body, want) {
			t.Errorf("security.txt lacks %q:\n%s", want, body)
		}
	}
}

// adminPassword is the password provision gives the first admin,
// generated per run (no password is committed).
var adminPassword = rand.Text()

// provision creates the first admin ("alice", adminPassword) of a started
// device and returns a client and a bearer token for its HTTPS API.
func provision(t *testing.T, d *Device, cfg Config) (*http.Client, string) {
	t.Helper()
	var code string
	for _, l := range strings.Split(cfg.Console.(*syncBuffer).String(), "\n") {
		if v, ok := strings.CutPrefix(l, "setup-code: "); ok {
			code = v
		}
	}
	tok, _, err := d.auth.Setup(context.Background(), code, "alice", adminPassword, "127.0.0.1:1")
	if err != nil {
		t.Fatalf("setup with code %q: %v", code, err)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}, tok.Reveal()
}

// apiCall sends method path to d's HTTPS API through c, with the bearer
// token (none if "") and a JSON body (none if ""), and returns the status
// and the answer.
func apiCall(t testing.TB, c *http.Client, d *Device, token, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "https://"+d.apiAddr+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The admin reads the Security Event Log and the software status through
// the API; bad query parameters are refused with a message naming them;
// without a session nothing is answered.
func TestLogAndSoftwareRoutes(t *testing.T) {
	cfg, _ := testConfig(t)
	d := start(t, cfg)
	c, tok := provision(t, d, cfg)
	get := func(path, token string) (int, string) { return apiCall(t, c, d, token, "GET", path, "") }
	if code, _ := get("/v1/logs", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/logs without a session: %d, want 401", code)
	}
	code, body := get("/v1/logs?category=auth&limit=5", tok)
	if code != http.StatusOK || !strings.Contains(body, `"auth.user.created"`) || strings.Contains(body, `"category":"system"`) {
		t.Errorf("GET /v1/logs?category=auth: %d %s", code, body)
	}
	for q, want := range map[string]string{
		"limit=0":                           "limit",
		"category=nonsense":                 "category",
		"since=yesterday":                   "since",
		"severity=loud":                     "severity",
		"from=-1":                           "from",
		"actor=" + strings.Repeat("a", 300): "actor",
	} {
		code, body := get("/v1/logs?"+q, tok)
		if code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("GET /v1/logs?%.40s: %d %s, want 400 naming %s", q, code, body, want)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body = get("/v1/software", tok)
		if code == http.StatusOK && strings.Contains(body, `"verified":true`) && strings.Contains(body, `"name":"app"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /v1/software: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// docs/openapi.json documents exactly the route table of a running device:
// the API's own routes and those the daemon's parts mount.
func TestOpenAPIMatchesDeviceRoutes(t *testing.T) {
	b, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Perm         string `json:"x-medguard-permission"`
			Provisioning bool   `json:"x-medguard-provisioning"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	cfg, _ := testConfig(t)
	cfg.Config.Disclosure.Contact = []string{"mailto:psirt@maker.example"}
	d := start(t, cfg)
	seen := 0
	for _, r := range d.api.Routes() {
		p := strings.TrimSuffix(r.Pattern, "{$}")
		op, ok := doc.Paths[p][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s is not in docs/openapi.json", r.Method, p)
			continue
		}
		seen++
		if op.Perm != string(r.Perm) || op.Provisioning != r.Provisioning {
			t.Errorf("%s %s: documented %+v, route has %s provisioning=%v", r.Method, p, op, r.Perm, r.Provisioning)
		}
	}
	n := 0
	for _, ops := range doc.Paths {
		n += len(ops)
	}
	if n != seen {
		t.Errorf("docs/openapi.json has %d operations, the device's route table %d", n, seen)
	}
}
