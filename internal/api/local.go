package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"

	"github.com/medguard/medguard/internal/eventlog"
)

// localRoute is a route of the local API. Its callers are identified by
// their user id, not by a session.
type localRoute struct {
	method, pattern string
	handler         http.Handler
}

func (s *Server) builtinLocalRoutes() []localRoute {
	return []localRoute{
		{"GET", "/v1/local/status", http.HandlerFunc(s.getLocalStatus)},
		{"GET", "/v1/local/status/full", http.HandlerFunc(s.getLocalStatusFull)},
	}
}

// getLocalStatusFull adds the boot report, for "medguard status" on the
// device.
func (s *Server) getLocalStatusFull(w http.ResponseWriter, r *http.Request) {
	st := s.cfg.Status.Status()
	if st.Warnings == nil {
		st.Warnings = []Warning{}
	}
	st.Since = st.Since.UTC()
	writeJSON(w, http.StatusOK, st)
}

// HandleLocal adds a route to the local API (before Run). Only peers whose
// user id is allowed reach it; PeerUID gives the caller's.
func (s *Server) HandleLocal(method, pattern string, h http.Handler) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen {
		return fmt.Errorf("add local route %s %s: the server is already serving", method, pattern)
	}
	s.local = append(s.local, localRoute{method, pattern, h})
	return nil
}

func (s *Server) getLocalStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, toLocal(s.cfg.Status.Status()))
}

type peerKey struct{}

// peer is the credentials of the process at the other end of the socket.
type peer struct {
	uid, pid int
	err      error
}

// PeerUID returns the user id of the local API's caller.
func PeerUID(ctx context.Context) (int, bool) {
	p, ok := ctx.Value(peerKey{}).(peer)
	return p.uid, ok && p.err == nil
}

// LocalHandler returns the local API's handler (for tests and for a
// caller that serves the socket itself).
func (s *Server) LocalHandler() http.Handler {
	s.mu.Lock()
	mux := http.NewServeMux()
	for _, lr := range s.local {
		mux.Handle(lr.method+" "+lr.pattern, lr.handler)
	}
	s.frozen = true
	s.mu.Unlock()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		p, _ := r.Context().Value(peerKey{}).(peer)
		if !s.peerAllowed(p) {
			s.event(r.Context(), "access.local.denied", eventlog.SeverityWarning, "uid:"+strconv.Itoa(p.uid), "local-socket",
				"A process of a user that is not allowed was refused on the local API socket.")
			writeError(w, s.log, errf(http.StatusForbidden, "forbidden", "user id %d is not allowed on the local API", p.uid))
			return
		}
		if _, pat := mux.Handler(r); pat == "" {
			writeError(w, s.log, errf(http.StatusNotFound, codeNotFound, "no such resource: %s", clip(r.URL.Path)))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		mux.ServeHTTP(w, r)
	})
}

// peerAllowed: the daemon's own user and the configured ones (IEC 62443-4-2
// CR 2.1 for the local interface).
func (s *Server) peerAllowed(p peer) bool {
	if p.err != nil {
		return false
	}
	if p.uid == s.selfUID {
		return true
	}
	return slices.Contains(s.cfg.SocketUIDs, uint32(p.uid))
}

func (s *Server) localServer() *http.Server {
	hs := s.httpServer(s.LocalHandler())
	hs.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, peerKey{}, peerCred(c))
	}
	return hs
}

// peerCred reads SO_PEERCRED of a unix socket connection.
func peerCred(c net.Conn) peer {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return peer{uid: -1, err: errors.New("not a unix socket")}
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return peer{uid: -1, err: err}
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return peer{uid: -1, err: err}
	}
	if cerr != nil {
		return peer{uid: -1, err: cerr}
	}
	return peer{uid: int(cred.Uid), pid: int(cred.Pid)}
}

// listenSocket listens on the configured unix socket, replacing a stale
// socket file (never another kind of file). The socket is mode 0666: who
// may talk is decided by SO_PEERCRED, so that the clinical application's
// user needs no group membership.
func (s *Server) listenSocket() (net.Listener, error) {
	if s.cfg.SocketListener != nil {
		return s.cfg.SocketListener, nil
	}
	p := s.cfg.Socket
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("local API socket directory: %w", err)
	}
	if fi, err := os.Lstat(p); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("local API socket %s: exists and is not a socket", p)
		}
		os.Remove(p)
	}
	ln, err := net.Listen("unix", p)
	if err != nil {
		return nil, fmt.Errorf("listen on local API socket %s: %w", p, err)
	}
	if err := os.Chmod(p, 0o666); err != nil {
		ln.Close()
		return nil, fmt.Errorf("local API socket %s: %w", p, err)
	}
	return ln, nil
}
