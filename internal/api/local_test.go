package api

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/testenv"
)

func unixClient(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
}

// The local API answers the clinical application's contract.
func TestLocalStatusContract(t *testing.T) {
	e := newEnv(t)
	r, err := unixClient(e.sock).Get("http://local/v1/local/status")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, b)
	}
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	for _, k := range []string{"device", "state", "since", "cause", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("local status lacks %q: %s", k, b)
		}
	}
	if _, ok := m["boot"]; ok || len(m) != 5 {
		t.Errorf("local status has extra fields: %s", b)
	}
	var ws []map[string]any
	json.Unmarshal(m["warnings"], &ws)
	if len(ws) != 1 || ws[0]["severity"] != "warning" || ws[0]["action"] != "check the SIEM" || ws[0]["since"] != "2026-12-03T09:00:00Z" {
		t.Errorf("warnings: %s", m["warnings"])
	}
	r, err = unixClient(e.sock).Get("http://local/v1/local/status/full")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(r.Body)
	r.Body.Close()
	var full DeviceStatus
	if err := json.Unmarshal(b, &full); err != nil || full.Boot == nil || len(full.Warnings) != 1 {
		t.Fatalf("full local status: %s", b)
	}
	fi, err := os.Stat(e.sock)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket: %v %v", fi, err)
	}
}

// Attack: a process of a user that is not allowed is refused (SO_PEERCRED).
func TestLocalPeerNotAllowed(t *testing.T) {
	e := newEnv(t)
	e.srv.setSelfUID(-5) // this test's own user is now a stranger
	r, err := unixClient(e.sock).Get("http://local/v1/local/status")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("stranger got %d", r.StatusCode)
	}
	found := false
	for _, ev := range e.ev.Events() {
		found = found || (ev.Code == "access.local.denied" && ev.Actor == "uid:"+strconv.Itoa(os.Geteuid()))
	}
	if !found {
		t.Fatal("no access.local.denied event naming the uid")
	}
}

// Integration: a real process of another user (nobody) is refused, one of
// an allowed user is served.
func TestLocalPeerOtherUserProcess(t *testing.T) {
	testenv.Root(t, "runs a client process as user nobody")
	curl := testenv.Tool(t, "curl", "curl")
	const nobody = 65534
	dir, err := os.MkdirTemp("", "medguard-sock-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755) // nobody must reach the socket; SO_PEERCRED decides
	n := 0
	inDir := func(_ *auth.Config, c *Config) { n++; c.Socket = filepath.Join(dir, strconv.Itoa(n)+".sock") }
	run := func(e *env) string {
		cmd := exec.Command(curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", e.sock, "http://local/v1/local/status")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("curl as nobody: %v", err)
		}
		return string(out)
	}
	if got := run(newEnv(t, inDir)); got != "403" {
		t.Fatalf("nobody, not allowed: %s", got)
	}
	allowed := newEnv(t, inDir, func(_ *auth.Config, c *Config) { c.SocketUIDs = []uint32{nobody} })
	if got := run(allowed); got != "200" {
		t.Fatalf("nobody, allowed: %s", got)
	}
}
