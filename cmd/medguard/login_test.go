package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medguard/medguard/internal/api"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/device"
	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/eventlog/eventlogtest"
	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/state"
)

// TestDeviceScripts runs the scripts of testdata/device against a real
// device API (auth + api, in this test process) listening on loopback and
// on a unix socket in $WORK. The scripts see:
// $DEVICE (its URL), $CODE (its setup code), $SOCK (the local socket),
// $FP (its certificate's fingerprint), $CAFILE (a CA file that signs it).
func TestDeviceScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/device",
		Setup: func(env *testscript.Env) error {
			return startTestDevice(env)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// advance DURATION moves the test device's clock forward.
			"advance": func(ts *testscript.TestScript, neg bool, args []string) {
				d, err := time.ParseDuration(args[0])
				ts.Check(err)
				ts.Value(clockKey{}).(*scriptClock).advance(d)
			},
			// mode FILE OCTAL fails unless FILE has that permission mode.
			"mode": func(ts *testscript.TestScript, neg bool, args []string) {
				fi, err := os.Stat(ts.MkAbs(args[0]))
				ts.Check(err)
				if got := fmt.Sprintf("%o", fi.Mode().Perm()); (got == args[1]) == neg {
					ts.Fatalf("%s has mode %s", args[0], got)
				}
			},
			// forgepin replaces every pinned fingerprint, as if the
			// device's certificate had changed (or a man in the middle
			// answered).
			"forgepin": func(ts *testscript.TestScript, neg bool, args []string) {
				p := ts.MkAbs("config/medguard/devices.json")
				b, err := os.ReadFile(p)
				ts.Check(err)
				var m map[string]map[string]any
				ts.Check(json.Unmarshal(b, &m))
				for _, v := range m {
					v["fingerprint"] = strings.Repeat("AB:", 31) + "AB"
				}
				b, _ = json.Marshal(m)
				ts.Check(os.WriteFile(p, b, 0o600))
			},
		},
	})
}

func startTestDevice(env *testscript.Env) error {
	key := make([]byte, 32)
	rand.Read(key)
	st, err := state.NewMemory(keystore.NewSecret(key))
	if err != nil {
		return err
	}
	codes := make(chan string, 4)
	// The events reach an in-memory log and the notifier (the admin
	// inbox the notifications commands read).
	ev := &notifyingLog{}
	n, err := notify.New(notify.Config{Recorder: ev, Identify: device.Identify})
	if err != nil {
		return err
	}
	ev.n = n
	env.Defer(func() { n.Close() })
	clk := &scriptClock{t: time.Now()}
	env.Values[clockKey{}] = clk
	a, err := auth.New(auth.Config{Store: st, Events: ev, StateDir: env.WorkDir + "/state", DeviceName: "icu-monitor-7", Now: clk.now,
		OnSetupCode:       func(c string, _ time.Time) { codes <- c },
		MinPasswordLength: 15, Argon2: auth.Params{Time: 1, MemoryKiB: 64, Threads: 1}, MaxConcurrentHashes: 2,
		IdleTimeout: 15 * time.Minute, AbsoluteTimeout: 12 * time.Hour, ReauthWindow: 5 * time.Minute,
		SetupCodeLifetime: 30 * time.Minute, AccountMaxDelay: 30 * time.Second, SourceMaxDelay: 15 * time.Minute,
		MaxConsecutiveFailures: 100})
	if err != nil {
		return err
	}
	cert, caPEM, err := testCertificate()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sock := filepath.Join(env.WorkDir, "api.sock")
	s, err := api.New(api.Config{Auth: a, Status: scriptStatus{}, Events: ev, Listener: ln, Socket: sock, DeviceName: "icu-monitor-7",
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert, nil }})
	if err != nil {
		return err
	}
	if err := device.MountNotifications(s, n); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	env.Defer(func() { cancel(); <-done; a.Close() })
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		} else if i > 200 {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(env.WorkDir, "ca.pem"), caPEM, 0o644); err != nil {
		return err
	}
	if err := writePasswords(env.WorkDir); err != nil {
		return err
	}
	env.Setenv("DEVICE", "https://"+ln.Addr().String())
	env.Setenv("CODE", <-codes)
	env.Setenv("SOCK", sock)
	env.Setenv("FP", certFingerprint(cert.Certificate[0]))
	env.Setenv("CAFILE", filepath.Join(env.WorkDir, "ca.pem"))
	env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, "config"))
	return nil
}

// writePasswords gives the scripts' accounts passwords generated for this
// run (no password is committed): admin.pw, nurse.pw, wrong.pw (one that
// is nobody's), new.pw, and change.pw (the admin's current password, then
// new.pw's, as "medguard password" reads them).
func writePasswords(dir string) error {
	admin, newPW := rand.Text(), rand.Text()
	for name, content := range map[string]string{
		"admin.pw": admin, "nurse.pw": rand.Text(), "wrong.pw": rand.Text(), "new.pw": newPW,
		"change.pw": admin + "\n" + newPW,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content+"\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// notifyingLog is the test device's event log: in memory, and every event
// handed to the notifier as the real log's reader would.
type notifyingLog struct {
	eventlogtest.Memory
	n *notify.Notifier
}

func (l *notifyingLog) Record(ctx context.Context, e eventlog.Event) (uint64, error) {
	seq, err := l.Memory.Record(ctx, e)
	if err == nil {
		all := l.Memory.Events()
		l.n.Handle(all[seq-1])
	}
	return seq, err
}

type clockKey struct{}

// scriptClock is the test device's clock, moved by the "advance" command.
type scriptClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *scriptClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *scriptClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type scriptStatus struct{}

func (scriptStatus) Status() api.DeviceStatus {
	return api.DeviceStatus{Device: "icu-monitor-7", State: "operational", Since: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC),
		Warnings: []api.Warning{{Code: "health.disk", Severity: "warning", Title: "Disk almost full", Cause: "92% used",
			Action: "export and clear old logs", Since: time.Date(2026, 12, 3, 9, 5, 0, 0, time.UTC)}},
		Boot: scriptBoot}
}

// scriptBoot is a boot report of the daemon's own type, so that the
// CLI's table is tested against the shape the device really sends.
var scriptBoot = device.BootReport{BootID: "13dda2e4432fe23af8491a8ba171f0b6",
	Started: time.Date(2026, 12, 3, 8, 59, 58, 0, time.UTC), Finished: time.Date(2026, 12, 3, 8, 59, 59, 250e6, time.UTC),
	Checks: []device.Check{
		{Name: "state-dir", Result: device.Passed, Duration: 80 * time.Microsecond},
		{Name: "keystore", Result: device.Passed, Detail: "sealed file", Duration: 12300 * time.Microsecond},
		{Name: "software", Result: device.Failed, Detail: "file etc/supervisor.toml:\x1b[2J changed", Duration: 1200 * time.Millisecond},
	}}

// testCertificate makes a CA and a device certificate for 127.0.0.1.
func testCertificate() (*tls.Certificate, []byte, error) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "script CA"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	t := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "icu-monitor-7"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, t, ca, &k.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}
