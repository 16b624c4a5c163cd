package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/testenv"
)

// startDemo builds medguardd, starts it with --demo in a fresh directory
// and waits until it reports its state. It returns the facts it printed
// (name: value) and the state directory; the daemon is stopped with SIGTERM
// at the end of the test, and must exit 0.
func startDemo(t *testing.T) (map[string]string, string) {
	t.Helper()
	testenv.Integration(t)
	bin := filepath.Join(t.TempDir(), "medguardd")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	stateDir := filepath.Join(t.TempDir(), "state")
	cmd := exec.Command(bin, "--demo", "--state-dir", stateDir)
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	facts := map[string]string{}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ": "); ok {
				facts[k] = v
				if k == "state" {
					close(ready)
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("demo did not stop cleanly on SIGTERM: %v\n%s", err, stderr.String())
		}
	})
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("demo did not become ready in 60 s; stderr:\n%s", stderr.String())
	}
	return facts, stateDir
}

// TestDemoStateHasNoPlaintextSecret greps the whole state directory of a
// running demo, after it was provisioned, for every secret the key store
// holds (raw, hex and base64), for PEM private keys, and for the setup
// code, the admin's password and the session token, and finds none.
func TestDemoStateHasNoPlaintextSecret(t *testing.T) {
	facts, stateDir := startDemo(t)
	if facts["state-dir"] != stateDir {
		t.Errorf("state-dir fact %q, want %q", facts["state-dir"], stateDir)
	}
	kek := filepath.Join(filepath.Dir(stateDir), "state.demo-kek")
	b, err := keystore.NewFileBackend(kek)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keystore.Open(filepath.Join(stateDir, "keys"), b)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	items, _ := filepath.Glob(filepath.Join(stateDir, "keys", "*.sealed"))
	if len(items) < 2 {
		t.Fatalf("only %d sealed items in the demo's key store", len(items))
	}
	var needles [][]byte
	for _, p := range items {
		name := strings.TrimSuffix(filepath.Base(p), ".sealed")
		s, err := ks.Secret(name)
		if err != nil {
			t.Fatalf("unseal %s: %v", name, err)
		}
		v := append([]byte(nil), s.Bytes()...)
		s.Zero()
		if len(v) < 16 {
			t.Fatalf("item %s is %d bytes", name, len(v))
		}
		needles = append(needles, v, []byte(hex.EncodeToString(v)),
			[]byte(base64.StdEncoding.EncodeToString(v)), []byte(base64.RawURLEncoding.EncodeToString(v)))
	}
	kekBytes, _ := os.ReadFile(kek)
	needles = append(needles, kekBytes, []byte("PRIVATE KEY-----"))
	// What the provisioning put in: the setup code, the admin's password
	// and the session token the device handed out.
	code := facts["setup-code"]
	password, token := provision(t, facts)
	for _, v := range []string{code, strings.ReplaceAll(code, "-", ""), password, token} {
		if len(v) < 16 {
			t.Fatalf("provisioning secret %q is too short to search for", v)
		}
		needles = append(needles, []byte(v), []byte(strings.ToLower(v)))
	}
	files := 0
	filepath.WalkDir(stateDir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		files++
		data, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("read %s: %v", p, err)
			return nil
		}
		for i, n := range needles {
			if bytes.Contains(data, n) {
				t.Errorf("%s contains secret #%d in plaintext", p, i)
			}
		}
		return nil
	})
	if files < 3 {
		t.Fatalf("walked only %d files", files)
	}
}

// provision creates the demo's first admin over its HTTPS API with the
// setup code it printed, trusting only the certificate whose fingerprint
// it printed. It returns the password (generated for this test) and the
// session token.
func provision(t *testing.T, facts map[string]string) (password, token string) {
	t.Helper()
	pin := strings.ReplaceAll(facts["tls-sha256"], ":", "")
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // the pin below is the check
		VerifyConnection: func(cs tls.ConnectionState) error {
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if !strings.EqualFold(hex.EncodeToString(sum[:]), pin) {
				return errors.New("certificate does not match the printed tls-sha256")
			}
			return nil
		},
	}}}
	pw := make([]byte, 18)
	rand.Read(pw)
	password = base64.RawURLEncoding.EncodeToString(pw)
	body, _ := json.Marshal(map[string]string{"code": facts["setup-code"], "user": "alice", "password": password})
	resp, err := client.Post(strings.TrimSuffix(facts["console"], "/")+"/v1/setup", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	defer resp.Body.Close()
	var a struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK || a.Token == "" {
		t.Fatalf("setup: status %d, token %q, %v", resp.StatusCode, a.Token, err)
	}
	return password, a.Token
}
