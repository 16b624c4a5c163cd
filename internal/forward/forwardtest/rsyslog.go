package forwardtest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/medguard/medguard/internal/testenv"
)

// Rsyslog is Debian's rsyslogd running as a syslog-over-TLS receiver (gtls
// driver, RFC 5425) on a loopback port, with its own configuration, pid
// file and work directory in a temporary directory. It never touches the
// system's rsyslog.
type Rsyslog struct {
	t    testing.TB
	bin  string
	Dir  string
	Port int
	// Out is the file of received messages, one RFC 5424 message a line
	// (template RSYSLOG_SyslogProtocol23Format), as a SIEM relay keeps them.
	Out string
	// Parsed is the file of what rsyslog's own RFC 5424 parser made of
	// each message: "VERSION|APP-NAME|MSGID|STRUCTURED-DATA".
	Parsed string
	CA     *PKI
	cmd    *exec.Cmd
	exited chan struct{}
}

// RsyslogOptions change the receiver.
type RsyslogOptions struct {
	// ClientAuth requires a client certificate issued by the CA.
	ClientAuth bool
	// TLS12Only limits the receiver to TLS 1.2, as older SIEM relays are.
	TLS12Only bool
	// ServerNames are the names in the receiver's certificate; default
	// "localhost" and "127.0.0.1".
	ServerNames []string
	// Counting writes one byte per message to Out instead of the message
	// (benchmarks: the file's size is the count), and no Parsed file.
	Counting bool
}

// rsyslogConf is the receiver's configuration. rsyslog 8.2302's gtls
// driver negotiates TLS 1.3 only when its GnuTLS priority string allows it
// explicitly; docs/forwarding.md shows hospitals the same setting.
var rsyslogConf = template.Must(template.New("conf").Parse(`
global(workDirectory="{{.Dir}}/work" maxMessageSize="64k"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="{{.Dir}}/ca.pem"
  defaultNetstreamDriverCertFile="{{.Dir}}/server.pem"
  defaultNetstreamDriverKeyFile="{{.Dir}}/server-key.pem")
main_queue(queue.timeoutshutdown="20000" queue.size="200000")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1"
  streamDriver.authMode="{{if .ClientAuth}}x509/certvalid{{else}}anon{{end}}"
  gnutlsPriorityString="NORMAL:-VERS-ALL:{{if not .TLS12Only}}+VERS-TLS1.3:{{end}}+VERS-TLS1.2")
input(type="imtcp" port="{{.Port}}" address="127.0.0.1")
{{- if .Counting}}
template(name="count" type="string" string="x")
action(type="omfile" file="{{.Dir}}/out.log" template="count")
{{- else}}
template(name="parsed" type="string" string="%protocol-version%|%app-name%|%msgid%|%structured-data%\n")
action(type="omfile" file="{{.Dir}}/out.log" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfile" file="{{.Dir}}/parsed.log" template="parsed")
{{- end}}
`))

// StartRsyslog writes the receiver's certificates and configuration and
// starts it. The test is skipped (or fails under MEDGUARD_INTEGRATION=1)
// if rsyslogd or its gtls driver is missing. It is stopped at the end of
// the test.
func StartRsyslog(t testing.TB, opt RsyslogOptions) *Rsyslog {
	t.Helper()
	bin := testenv.Tool(t, "rsyslogd", "rsyslog rsyslog-gnutls")
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"); err != nil {
		if matches, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so"); len(matches) == 0 {
			testenv.Missing(t, "rsyslog's gtls driver not found; install it with: apt-get install rsyslog-gnutls")
		}
	}
	dir := t.TempDir()
	if d := os.Getenv("KEEP_RSYSLOG_DIR"); d != "" {
		dir, _ = os.MkdirTemp(d, "rsyslog")
	}
	if err := os.Mkdir(filepath.Join(dir, "work"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := &Rsyslog{t: t, bin: bin, Dir: dir, Port: freePort(t), CA: NewPKI(t, "test SIEM CA"),
		Out: filepath.Join(dir, "out.log"), Parsed: filepath.Join(dir, "parsed.log")}
	names := opt.ServerNames
	if len(names) == 0 {
		names = []string{"localhost", "127.0.0.1"}
	}
	srv := r.CA.Issue(t, "test SIEM receiver", names...)
	WriteFile(t, dir, "ca.pem", r.CA.PEM)
	WriteFile(t, dir, "server.pem", srv.CertPEM)
	WriteFile(t, dir, "server-key.pem", srv.KeyPEM)
	var conf bytes.Buffer
	err := rsyslogConf.Execute(&conf, map[string]any{"Dir": dir, "Port": r.Port,
		"ClientAuth": opt.ClientAuth, "TLS12Only": opt.TLS12Only, "Counting": opt.Counting})
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, dir, "rsyslog.conf", conf.Bytes())
	if out, err := exec.Command(bin, "-N1", "-f", filepath.Join(dir, "rsyslog.conf")).CombinedOutput(); err != nil {
		t.Fatalf("rsyslogd rejects the test configuration: %v\n%s", err, out)
	}
	r.Start()
	t.Cleanup(r.Stop)
	if os.Getenv("KEEP_RSYSLOG_DIR") != "" {
		t.Logf("rsyslog dir %s", dir)
	}
	return r
}

// Addr is the receiver's address.
func (r *Rsyslog) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port)) }

// Start starts rsyslogd (again) and waits until it accepts connections.
func (r *Rsyslog) Start() {
	r.t.Helper()
	stderr, err := os.OpenFile(filepath.Join(r.Dir, "rsyslogd.stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		r.t.Fatal(err)
	}
	defer stderr.Close()
	r.cmd = exec.Command(r.bin, "-n", "-f", filepath.Join(r.Dir, "rsyslog.conf"), "-i", filepath.Join(r.Dir, "rsyslogd.pid"))
	r.cmd.Stdout, r.cmd.Stderr = stderr, stderr
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start rsyslogd: %v", err)
	}
	r.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(r.cmd, r.exited)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-r.exited:
			r.t.Fatalf("rsyslogd exited at start:\n%s", r.Stderr())
		case <-time.After(50 * time.Millisecond):
		}
	}
	r.t.Fatalf("rsyslogd does not listen on %s:\n%s", r.Addr(), r.Stderr())
}

// Stop stops rsyslogd with SIGTERM, as a service stop does, and waits for
// it to write what it queued and exit. It is safe to call when stopped.
func (r *Rsyslog) Stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
	r.cmd = nil
}

// Stderr returns what rsyslogd wrote to its standard error.
func (r *Rsyslog) Stderr() string {
	b, _ := os.ReadFile(filepath.Join(r.Dir, "rsyslogd.stderr"))
	return string(b)
}

// Lines returns the lines of a file rsyslog writes (none if it does not
// exist yet).
func Lines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 128<<10), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// WaitLines waits until path has at least n lines, or fails t after
// timeout.
func (r *Rsyslog) WaitLines(path string, n int, timeout time.Duration) []string {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		lines := Lines(r.t, path)
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: %d lines after %v, want %d\nrsyslogd:\n%s", filepath.Base(path), len(lines), timeout, n, tail(r.Stderr(), 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Size returns the size of path (0 if missing): with Counting, the number
// of messages received.
func Size(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// CountLines counts the lines of path quickly.
func CountLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte{'\n'})
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// String describes the receiver for failure messages.
func (r *Rsyslog) String() string {
	return fmt.Sprintf("rsyslogd on %s (dir %s)", r.Addr(), strings.TrimSpace(r.Dir))
}
