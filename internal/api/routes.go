package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/medguard/medguard/internal/auth"
)

// Route is one entry of the route table.
type Route struct {
	Method  string
	Pattern string
	// Perm is what the caller needs; auth.PermPublic for none.
	Perm auth.Permission
	// Provisioning routes answer before the device is provisioned; all
	// others answer "not_provisioned" until an admin exists.
	Provisioning bool
	// Form marks the console's files: answered with the console's CSP.
	Form    bool
	Handler http.Handler
}

// builtinRoutes is the route table of this package. Other parts add theirs
// with Handle.
func (s *Server) builtinRoutes() []Route {
	h := func(f func(http.ResponseWriter, *http.Request) error) http.Handler { return s.jsonHandler(f) }
	return []Route{
		{Method: "GET", Pattern: "/{$}", Perm: auth.PermPublic, Provisioning: true, Form: true, Handler: consoleHandler()},
		{Method: "GET", Pattern: "/console/{file}", Perm: auth.PermPublic, Provisioning: true, Form: true, Handler: consoleHandler()},
		{Method: "GET", Pattern: "/favicon.ico", Perm: auth.PermPublic, Provisioning: true, Form: true, Handler: http.HandlerFunc(noContent)},
		{Method: "GET", Pattern: "/v1/status", Perm: auth.PermPublic, Provisioning: true, Handler: h(s.getStatus)},
		{Method: "GET", Pattern: "/v1/policy", Perm: auth.PermPublic, Provisioning: true, Handler: h(s.getPolicy)},
		{Method: "POST", Pattern: "/v1/setup", Perm: auth.PermPublic, Provisioning: true, Handler: h(s.postSetup)},
		{Method: "POST", Pattern: "/v1/login", Perm: auth.PermPublic, Handler: h(s.postLogin)},
		{Method: "POST", Pattern: "/v1/logout", Perm: auth.PermSelf, Handler: h(s.postLogout)},
		{Method: "GET", Pattern: "/v1/session", Perm: auth.PermSelf, Handler: h(s.getSession)},
		{Method: "POST", Pattern: "/v1/session/reauth", Perm: auth.PermSelf, Handler: h(s.postReauth)},
		{Method: "POST", Pattern: "/v1/password", Perm: auth.PermSelf, Handler: h(s.postPassword)},
		{Method: "GET", Pattern: "/v1/console/pages", Perm: auth.PermSelf, Handler: h(s.getPages)},
		{Method: "GET", Pattern: "/v1/users", Perm: auth.PermUsersRead, Handler: h(s.getUsers)},
		{Method: "POST", Pattern: "/v1/users", Perm: auth.PermUsersManage, Handler: h(s.postUser)},
		{Method: "GET", Pattern: "/v1/users/{name}", Perm: auth.PermUsersRead, Handler: h(s.getUser)},
		{Method: "PATCH", Pattern: "/v1/users/{name}", Perm: auth.PermUsersManage, Handler: h(s.patchUser)},
		{Method: "DELETE", Pattern: "/v1/users/{name}", Perm: auth.PermUsersManage, Handler: h(s.deleteUser)},
		{Method: "PUT", Pattern: "/v1/users/{name}/password", Perm: auth.PermUsersManage, Handler: h(s.putUserPassword)},
		{Method: "GET", Pattern: "/v1/sessions", Perm: auth.PermUsersRead, Handler: h(s.getSessions)},
		{Method: "DELETE", Pattern: "/v1/sessions/{id}", Perm: auth.PermSessionsManage, Handler: h(s.deleteSession)},
	}
}

func noContent(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

// jsonHandler adapts a handler that returns an error.
func (s *Server) jsonHandler(f func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			writeError(w, s.log, err)
		}
	})
}

// build makes the handler of the HTTPS API from the route table. Every
// route is wrapped in guard; anything unmatched answers with a JSON error,
// or "not_provisioned" before provisioning.
func (s *Server) build() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.Handle(rt.Method+" "+rt.Pattern, s.guard(rt))
	}
	return s.headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			s.unmatched(w, r, mux)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

// unmatched answers a request that no route takes.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	if !s.cfg.Auth.Provisioned() {
		writeError(w, s.log, errNotProvisioned())
		return
	}
	// Probe with GET to tell "wrong method" from "no such path".
	probe := r.Clone(r.Context())
	probe.Method = "GET"
	if _, p := mux.Handler(probe); p != "" && r.Method != "GET" {
		writeError(w, s.log, errf(http.StatusMethodNotAllowed, codeMethod, "method %s is not allowed on %s", r.Method, clip(r.URL.Path)))
		return
	}
	writeError(w, s.log, errf(http.StatusNotFound, codeNotFound, "no such resource: %s", clip(r.URL.Path)))
}

func errNotProvisioned() error {
	return errf(http.StatusServiceUnavailable, codeNotProvisioned,
		"device not provisioned: set it up with the one-time setup code shown on its console (medguard setup)")
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

type ctxKey int

const (
	principalKey ctxKey = iota
	tokenKey
)

// PrincipalFrom returns the authenticated caller of a request, or nil for
// an anonymous one (only on PermPublic routes).
func PrincipalFrom(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey).(*auth.Principal)
	return p
}

func tokenFrom(ctx context.Context) auth.Token {
	t, _ := ctx.Value(tokenKey).(auth.Token)
	return t
}
