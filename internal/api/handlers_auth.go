package api

import (
	"net/http"
	"time"

	"github.com/medguard/medguard/internal/auth"
)

// Credentials is the body of POST /v1/login.
type Credentials struct {
	User     string `json:"user"`
	Password string `json:"password"`
	// Kind is "bearer" (default: the token is in the answer, for the CLI
	// and machine clients) or "cookie" (the token is set as the
	// __Host- cookie, for the console; the answer carries the CSRF token).
	Kind string `json:"kind,omitempty"`
}

// SetupRequest is the body of POST /v1/setup.
type SetupRequest struct {
	Code     string `json:"code"`
	User     string `json:"user"`
	Password string `json:"password"`
	Kind     string `json:"kind,omitempty"`
}

// SessionAnswer is the answer to login, setup and password change, and to
// GET /v1/session (without token).
type SessionAnswer struct {
	User      string    `json:"user"`
	Role      auth.Role `json:"role"`
	Kind      string    `json:"kind"`
	Session   string    `json:"session"`
	Token     string    `json:"token,omitempty"`      // bearer sessions, once
	CSRFToken string    `json:"csrf_token,omitempty"` // cookie sessions
	AuthAt    time.Time `json:"authenticated_at"`
}

func sessionKind(k string) (string, error) {
	switch k {
	case "", "bearer":
		return "bearer", nil
	case "cookie":
		return "cookie", nil
	}
	return "", errf(http.StatusBadRequest, codeBadRequest, "kind %q: want bearer or cookie", clip(k))
}

// answerSession sends a new session to its owner: as a cookie or in the
// body.
func answerSession(w http.ResponseWriter, status int, tok auth.Token, p *auth.Principal) {
	a := SessionAnswer{User: p.Name, Role: p.Role, Kind: p.Kind, Session: p.SessionID, AuthAt: p.AuthAt.UTC()}
	if p.Kind == "cookie" {
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: tok.Reveal(), Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		a.CSRFToken = tok.CSRF()
	} else {
		a.Token = tok.Reveal()
	}
	writeJSON(w, status, a)
}

func clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

func (s *Server) postSetup(w http.ResponseWriter, r *http.Request) error {
	req, err := decode[SetupRequest](r)
	if err != nil {
		return err
	}
	kind, err := sessionKind(req.Kind)
	if err != nil {
		return err
	}
	tok, p, err := s.cfg.Auth.Setup(r.Context(), req.Code, req.User, req.Password, r.RemoteAddr)
	if err != nil {
		return err
	}
	if kind == "cookie" {
		// Setup starts a bearer session; a console wants a cookie.
		s.cfg.Auth.Logout(r.Context(), tok, r.RemoteAddr)
		if tok, p, err = s.cfg.Auth.Login(r.Context(), req.User, req.Password, r.RemoteAddr, kind); err != nil {
			return err
		}
	}
	answerSession(w, http.StatusCreated, tok, p)
	return nil
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) error {
	req, err := decode[Credentials](r)
	if err != nil {
		return err
	}
	kind, err := sessionKind(req.Kind)
	if err != nil {
		return err
	}
	// A session presented with the login ends: the login gets a new one
	// (no session fixation, OWASP ASVS 5.0 V7.2.4).
	if old := tokenFrom(r.Context()); !old.IsZero() {
		s.cfg.Auth.Logout(r.Context(), old, r.RemoteAddr)
	} else if c, err := r.Cookie(SessionCookie); err == nil {
		s.cfg.Auth.Logout(r.Context(), auth.ParseToken(c.Value), r.RemoteAddr)
	}
	tok, p, err := s.cfg.Auth.Login(r.Context(), req.User, req.Password, r.RemoteAddr, kind)
	if err != nil {
		return err
	}
	answerSession(w, http.StatusOK, tok, p)
	return nil
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Auth.Logout(r.Context(), tokenFrom(r.Context()), r.RemoteAddr); err != nil {
		return err
	}
	clearCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	a := SessionAnswer{User: p.Name, Role: p.Role, Kind: p.Kind, Session: p.SessionID, AuthAt: p.AuthAt.UTC()}
	if p.Kind == "cookie" {
		a.CSRFToken = tokenFrom(r.Context()).CSRF()
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// PasswordRequest is the body of POST /v1/session/reauth and PUT
// /v1/users/{name}/password.
type PasswordRequest struct {
	Password string `json:"password"`
}

func (s *Server) postReauth(w http.ResponseWriter, r *http.Request) error {
	req, err := decode[PasswordRequest](r)
	if err != nil {
		return err
	}
	p := PrincipalFrom(r.Context())
	if err := s.cfg.Auth.Reauthenticate(r.Context(), p, tokenFrom(r.Context()), req.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// PasswordChange is the body of POST /v1/password.
type PasswordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

func (s *Server) postPassword(w http.ResponseWriter, r *http.Request) error {
	req, err := decode[PasswordChange](r)
	if err != nil {
		return err
	}
	tok, p, err := s.cfg.Auth.ChangePassword(r.Context(), PrincipalFrom(r.Context()), req.Current, req.New)
	if err != nil {
		return err
	}
	answerSession(w, http.StatusOK, tok, p)
	return nil
}

// PolicyAnswer describes the password policy, for forms.
type PolicyAnswer struct {
	MinLength     int    `json:"min_length"`
	MaxLength     int    `json:"max_length"`
	BlocklistSize int    `json:"blocklist_size"`
	Rules         string `json:"rules"`
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	p := s.cfg.Auth.Policy()
	writeJSON(w, http.StatusOK, PolicyAnswer{MinLength: max(p.MinLength, 8), MaxLength: auth.MaxPasswordLength, BlocklistSize: auth.BlocklistSize(),
		Rules: "length only (counted in characters); not a common password; must not contain the user name, the device name or \"medguard\""})
	return nil
}
