package forward

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// wireConn counts the bytes written to the network beneath TLS, so that
// they can be compared with what the receiver's TCP acknowledged.
type wireConn struct {
	net.Conn
	written atomic.Uint64
}

func (c *wireConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.written.Add(uint64(n))
	return n, err
}

// ackedBytes returns how many bytes the peer's TCP has acknowledged
// (Linux TCP_INFO tcpi_bytes_acked). For a connection that is not TCP
// (tests) it returns every byte written.
func (c *wireConn) ackedBytes() uint64 {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return c.written.Load()
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	var acked uint64
	var ierr error
	err = rc.Control(func(fd uintptr) {
		var info *unix.TCPInfo
		info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if ierr == nil {
			acked = info.Bytes_acked
		}
	})
	if err != nil || ierr != nil {
		return 0 // nothing known to be acknowledged: the safe point waits
	}
	return acked
}

// session is one open TLS connection to a destination.
type session struct {
	wire *wireConn
	tls  *tls.Conn
}

// dial opens a TCP connection to addr and completes the TLS handshake.
// The handshake verifies the receiver's certificate chain against the
// configured CA and its name (IEC 62443-4-2 CR 1.8, CR 3.1: authenticated,
// integrity-protected transport of audit records).
func dial(ctx context.Context, dialer func(ctx context.Context, network, addr string) (net.Conn, error), addr string, cfg *tls.Config, timeout time.Duration) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	raw, err := dialer(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	w := &wireConn{Conn: raw}
	tc := tls.Client(w, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, &HandshakeError{Addr: addr, Err: err}
	}
	return &session{wire: w, tls: tc}, nil
}

// HandshakeError is a failed TLS handshake: the receiver's certificate did
// not verify, its name did not match, or the versions did not agree. It can
// mean an impostor; it is reported as a security event, not retried
// silently.
type HandshakeError struct {
	Addr string
	Err  error
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("TLS handshake with %s: %v", e.Addr, e.Err)
}

func (e *HandshakeError) Unwrap() error { return e.Err }
