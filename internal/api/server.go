package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/eventlog"
)

// Config is what the Server needs. Fields marked "wiring" come from the
// daemon; the others from the [api] table (FromConfig).
type Config struct {
	Auth   *auth.Auth        // wiring: accounts and sessions
	Status StatusSource      // wiring: the device's state and warnings
	Events eventlog.Recorder // wiring: access events
	Logger *slog.Logger      // wiring: operational log; nil discards
	// GetCertificate returns the device's TLS certificate (wiring: the key
	// store's TLSCertificate).
	GetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// Listener, if set, is used instead of listening on Listen (netguard
	// or tests pass one). It must be a TCP listener: TLS is added here.
	Listener net.Listener
	// SocketListener, if set, is used instead of listening on Socket.
	SocketListener net.Listener

	DeviceName     string
	Listen         string
	Socket         string
	SocketUIDs     []uint32
	ClientCAs      *x509.CertPool // nil: client certificates are not accepted
	ClientRoles    []auth.Role
	MaxBodyBytes   int64
	MaxHeaderBytes int
	RequestTimeout time.Duration
}

// FromConfig fills the non-wiring fields from the configuration, reading
// the client CA file if one is set.
func FromConfig(c config.API, d config.Device) (Config, error) {
	cfg := Config{DeviceName: d.Name, Listen: c.Listen, Socket: c.Socket,
		MaxBodyBytes: int64(c.MaxBodyBytes), MaxHeaderBytes: c.MaxHeaderBytes, RequestTimeout: c.RequestTimeout.D()}
	for _, u := range c.SocketUIDs {
		cfg.SocketUIDs = append(cfg.SocketUIDs, uint32(u))
	}
	for _, r := range c.ClientRoles {
		cfg.ClientRoles = append(cfg.ClientRoles, auth.Role(r))
	}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return Config{}, fmt.Errorf("read client CA file: %w", err)
		}
		cfg.ClientCAs = x509.NewCertPool()
		if !cfg.ClientCAs.AppendCertsFromPEM(pem) {
			return Config{}, fmt.Errorf("client CA file %s: no PEM certificate in it", c.ClientCAFile)
		}
	}
	return cfg, nil
}

// Server is the HTTPS API and the local API.
type Server struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex // guards routes, local, pages and frozen
	routes  []Route
	local   []localRoute
	pages   []ConsolePage
	frozen  bool
	handler http.Handler // built at first use; routes are frozen then

	selfUID int // the daemon's own user id, always allowed on the local socket

	closeOnce sync.Once
	closed    chan struct{}
}

// New checks cfg and returns a Server with the built-in routes.
func New(cfg Config) (*Server, error) {
	if cfg.Auth == nil || cfg.Status == nil || cfg.Events == nil {
		return nil, errors.New("new api server: Auth, Status and Events are required")
	}
	if cfg.GetCertificate == nil {
		return nil, errors.New("new api server: GetCertificate is required (there is no plaintext listener)")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 8 << 10
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.Listen == "" && cfg.Listener == nil {
		return nil, errors.New("new api server: Listen or Listener is required")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, closed: make(chan struct{}), selfUID: os.Geteuid()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.routes = s.builtinRoutes()
	s.local = s.builtinLocalRoutes()
	s.pages = builtinPages()
	return s, nil
}

// Handle adds a route to the HTTPS API: method and pattern as for
// http.ServeMux ("GET", "/v1/logs/{seq}"), the permission a caller needs,
// and the handler, which finds the caller with PrincipalFrom. It must be
// called before Run; routes are fixed once the server serves.
func (s *Server) Handle(method, pattern string, perm auth.Permission, h http.Handler) error {
	return s.add(Route{Method: method, Pattern: pattern, Perm: perm, Handler: h})
}

// HandleRoute adds a route with every field of Route, e.g. a public route
// that also answers before provisioning. Same rules as Handle.
func (s *Server) HandleRoute(r Route) error {
	return s.add(r)
}

func (s *Server) add(r Route) error {
	if !r.Perm.Valid() {
		return fmt.Errorf("add route %s %s: unknown permission %q", r.Method, r.Pattern, r.Perm)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen {
		return fmt.Errorf("add route %s %s: the server is already serving", r.Method, r.Pattern)
	}
	for _, o := range s.routes {
		if o.Method == r.Method && o.Pattern == r.Pattern {
			return fmt.Errorf("add route %s %s: already declared", r.Method, r.Pattern)
		}
	}
	s.routes = append(s.routes, r)
	return nil
}

// Routes returns the route table (for tests and docs).
func (s *Server) Routes() []Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Route(nil), s.routes...)
}

// Handler returns the HTTPS API's handler, freezing the route table.
func (s *Server) Handler() http.Handler {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handler == nil {
		s.frozen = true
		s.handler = s.build()
	}
	return s.handler
}

// TLSConfig returns the TLS configuration: TLS 1.3 only (issue 4, item 1;
// IEC 62443-4-2 CR 4.1), the device certificate, and client certificates
// verified against ClientCAs when configured.
func (s *Server) TLSConfig() *tls.Config {
	c := &tls.Config{
		MinVersion:     tls.VersionTLS13,
		MaxVersion:     tls.VersionTLS13,
		GetCertificate: s.cfg.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
	if s.cfg.ClientCAs != nil {
		c.ClientAuth = tls.VerifyClientCertIfGiven
		c.ClientCAs = s.cfg.ClientCAs
	}
	return c
}

func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(5*time.Second, s.cfg.RequestTimeout),
		ReadTimeout:       s.cfg.RequestTimeout,
		WriteTimeout:      s.cfg.RequestTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// Run serves the HTTPS API and, if a socket is configured, the local API,
// until ctx ends or Close is called; then it shuts both down gracefully.
func (s *Server) Run(ctx context.Context) error {
	ln := s.cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.cfg.Listen); err != nil {
			return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
		}
	}
	hs := s.httpServer(s.Handler())
	hs.TLSConfig = s.TLSConfig()
	servers := []*http.Server{hs}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serve(hs.Serve(tls.NewListener(ln, hs.TLSConfig))) })
	if s.cfg.Socket != "" || s.cfg.SocketListener != nil {
		sl, err := s.listenSocket()
		if err != nil {
			ln.Close()
			return err
		}
		ls := s.localServer()
		servers = append(servers, ls)
		g.Go(func() error { return serve(ls.Serve(sl)) })
	}
	g.Go(func() error {
		select {
		case <-gctx.Done():
		case <-s.closed:
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		var errs []error
		for _, hs := range servers {
			errs = append(errs, hs.Shutdown(sctx))
		}
		return errors.Join(errs...)
	})
	return g.Wait()
}

func serve(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops Run. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}
