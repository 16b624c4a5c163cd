package forward_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/forward"
)

// goReceiver is a syslog-over-TLS receiver in Go for unit tests: it reads
// RFC 5425 frames and parses each message with ParseMessage.
type goReceiver struct {
	t   testing.TB
	ln  net.Listener
	cfg *tls.Config

	mu        sync.Mutex // guards the fields below
	got       []*forward.Received
	conns     []net.Conn
	handshook int // completed handshakes
	failed    int // failed handshakes
	// closeAfter, if > 0, makes the receiver drop each connection after
	// that many messages and at least minAge (a SIEM restarting),
	// discarding whatever its socket buffer still holds.
	closeAfter int
	minAge     time.Duration
}

func newGoReceiver(t testing.TB, cfg *tls.Config) *goReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &goReceiver{t: t, ln: ln, cfg: cfg}
	go r.accept()
	t.Cleanup(r.close)
	return r
}

func (r *goReceiver) addr() string { return r.ln.Addr().String() }

func (r *goReceiver) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.conns = append(r.conns, c)
		r.mu.Unlock()
		go r.serve(tls.Server(c, r.cfg))
	}
}

func (r *goReceiver) serve(c *tls.Conn) {
	defer c.Close()
	if err := c.Handshake(); err != nil {
		r.mu.Lock()
		r.failed++
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	r.handshook++
	limit, minAge := r.closeAfter, r.minAge
	r.mu.Unlock()
	start := time.Now()
	br := bufio.NewReader(c)
	for n := 0; limit == 0 || n < limit || time.Since(start) < minAge; n++ {
		lenStr, err := br.ReadString(' ')
		if err != nil {
			return
		}
		size, err := strconv.Atoi(lenStr[:len(lenStr)-1])
		if err != nil || size <= 0 || size > forward.MaxMessageSize {
			r.t.Errorf("bad frame length %q", lenStr)
			return
		}
		msg := make([]byte, size)
		if _, err := io.ReadFull(br, msg); err != nil {
			return
		}
		m, err := forward.ParseMessage(msg)
		if err != nil {
			r.t.Errorf("received message does not parse: %v\n%s", err, msg)
			return
		}
		r.mu.Lock()
		r.got = append(r.got, m)
		r.mu.Unlock()
	}
}

func (r *goReceiver) close() {
	r.ln.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
}

func (r *goReceiver) received() []*forward.Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*forward.Received(nil), r.got...)
}

func (r *goReceiver) counts() (handshook, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handshook, r.failed
}

// seqs returns how often each sequence number arrived.
func (r *goReceiver) seqs() map[uint64]int {
	out := map[uint64]int{}
	for _, m := range r.received() {
		out[m.Seq]++
	}
	return out
}
