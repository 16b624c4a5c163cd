package api

import (
	"context"
	"crypto/x509"
	"net/http"
	"slices"
	"strings"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/eventlog"
)

// SessionCookie is the name of the console's session cookie. The __Host-
// prefix makes the browser refuse it unless it is Secure, has Path=/ and no
// Domain, so that no other host or path can plant or read it.
const SessionCookie = "__Host-medguard-session"

// CSRFHeader carries a cookie session's CSRF token.
const CSRFHeader = "X-CSRF-Token"

// guard runs the checks every route passes, in order: provisioning gate,
// body limit, authentication, CSRF for cookie sessions, authorization.
func (s *Server) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rt.Provisioning && !s.cfg.Auth.Provisioned() {
			writeError(w, s.log, errNotProvisioned())
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		if err := checkOrigin(r); err != nil {
			writeError(w, s.log, err)
			return
		}
		p, tok, err := s.authenticate(r)
		if err != nil && rt.Perm == auth.PermPublic && auth.KindOf(err) == auth.KindUnauthenticated {
			p, tok, err = nil, auth.Token{}, nil // a stale cookie must not block login
		}
		if err != nil {
			writeError(w, s.log, err)
			return
		}
		// Public routes act on no session (login ends a presented one), so
		// they need no CSRF token; a cross-site JSON POST is impossible
		// without a CORS preflight, which is never granted.
		if p != nil && p.Kind == "cookie" && !safeMethod(r.Method) && rt.Perm != auth.PermPublic {
			if err := checkCSRF(r, tok); err != nil {
				s.event(r.Context(), "access.csrf_refused", eventlog.SeverityWarning, p.Name, p.Source,
					"A state-changing request of a cookie session without a valid CSRF token was refused.")
				writeError(w, s.log, err)
				return
			}
		}
		if err := s.cfg.Auth.Authorize(r.Context(), p, rt.Perm); err != nil {
			writeError(w, s.log, err)
			return
		}
		ctx := context.WithValue(r.Context(), principalKey, p)
		ctx = context.WithValue(ctx, tokenKey, tok)
		rt.Handler.ServeHTTP(w, r.WithContext(ctx))
	})
}

func safeMethod(m string) bool { return m == "GET" || m == "HEAD" || m == "OPTIONS" }

// checkCSRF requires the session's CSRF token in X-CSRF-Token and refuses a
// request that the browser marks as cross-site (OWASP ASVS 5.0 V3.5.1).
func checkCSRF(r *http.Request, tok auth.Token) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errf(http.StatusForbidden, codeCSRF, "cross-site request refused")
	}
	if !tok.CheckCSRF(r.Header.Get(CSRFHeader)) {
		return errf(http.StatusForbidden, codeCSRF, "missing or wrong %s header: reload the console", CSRFHeader)
	}
	return nil
}

// checkOrigin refuses a state-changing request that a browser sent from
// another origin (login CSRF included): browsers send Origin with every
// POST, PUT, PATCH and DELETE; the CLI sends none.
func checkOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if safeMethod(r.Method) || o == "" {
		return nil
	}
	if o != "https://"+r.Host {
		return errf(http.StatusForbidden, codeCSRF, "cross-origin request refused")
	}
	return nil
}

// authenticate finds the caller: a bearer token, else a session cookie,
// else a verified client certificate, else nobody. A presented but invalid
// credential is an error, never a fall-back to anonymous.
func (s *Server) authenticate(r *http.Request) (*auth.Principal, auth.Token, error) {
	src := r.RemoteAddr
	if h := r.Header.Get("Authorization"); h != "" {
		v, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, auth.Token{}, &auth.Error{Kind: auth.KindUnauthenticated, Msg: "Authorization header: want Bearer TOKEN"}
		}
		tok := auth.ParseToken(strings.TrimSpace(v))
		p, err := s.cfg.Auth.Authenticate(r.Context(), tok, src)
		if err == nil && p.Kind != "bearer" {
			err = &auth.Error{Kind: auth.KindUnauthenticated, Msg: "a cookie session cannot be used as a bearer token"}
		}
		return p, tok, err
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		tok := auth.ParseToken(c.Value)
		p, err := s.cfg.Auth.Authenticate(r.Context(), tok, src)
		if err == nil && p.Kind != "cookie" {
			err = &auth.Error{Kind: auth.KindUnauthenticated, Msg: "a bearer token cannot be used as a cookie"}
		}
		return p, tok, err
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		p, err := s.certPrincipal(r.Context(), r.TLS.VerifiedChains[0][0], src)
		return p, auth.Token{}, err
	}
	return nil, auth.Token{}, nil
}

// certPrincipal maps a verified client certificate to a machine principal.
// Its role is the organizational unit "medguard:ROLE", which must be one of
// the allowed client roles (never admin: critical actions need a password).
func (s *Server) certPrincipal(ctx context.Context, c *x509.Certificate, src string) (*auth.Principal, error) {
	for _, ou := range c.Subject.OrganizationalUnit {
		name, ok := strings.CutPrefix(ou, "medguard:")
		if !ok {
			continue
		}
		role := auth.Role(name)
		if role != auth.RoleAdmin && slices.Contains(s.cfg.ClientRoles, role) {
			return &auth.Principal{Name: "cert:" + c.Subject.CommonName, Role: role, Source: src, Kind: "certificate"}, nil
		}
	}
	s.event(ctx, "auth.certificate.refused", eventlog.SeverityWarning, "cert:"+c.Subject.CommonName, src,
		"A client certificate without an allowed medguard role was refused.")
	return nil, &auth.Error{Kind: auth.KindUnauthenticated, Msg: "the client certificate carries no allowed role (OU medguard:ROLE)"}
}

func (s *Server) event(ctx context.Context, code string, sev eventlog.Severity, actor, src, msg string) {
	cat := eventlog.CategoryAccess
	if strings.HasPrefix(code, "auth.") {
		cat = eventlog.CategoryAuth
	}
	_, err := s.cfg.Events.Record(context.WithoutCancel(ctx), eventlog.Event{Code: code, Category: cat, Severity: sev, Actor: actor, Source: src, Message: msg})
	if err != nil {
		s.log.Error("record security event", "code", code, "err", err)
	}
}

// Content Security Policies: the console may load only its own files; JSON
// answers may load nothing.
const (
	consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	apiCSP     = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)

// headers sets the security headers of every answer (OWASP ASVS 5.0 V3.4).
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), usb=(), serial=()")
		h.Set("Cache-Control", "no-store")
		if r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/console/") {
			h.Set("Content-Security-Policy", consoleCSP)
		} else {
			h.Set("Content-Security-Policy", apiCSP)
		}
		next.ServeHTTP(w, r)
	})
}
