package api

import (
	"embed"
	"io/fs"
	"net/http"
	"path"

	"github.com/medguard/medguard/internal/auth"
)

//go:embed console
var consoleFiles embed.FS

// consoleHandler serves the embedded web console: index.html at "/" and its
// files under /console/.
func consoleHandler() http.Handler {
	sub, _ := fs.Sub(consoleFiles, "console")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if r.URL.Path == "/" {
			name = "index.html"
		}
		if name == "" || name != path.Base(name) {
			writeError(w, nil, errf(http.StatusNotFound, codeNotFound, "no such file"))
			return
		}
		if _, err := fs.Stat(sub, name); err != nil {
			writeError(w, nil, errf(http.StatusNotFound, codeNotFound, "no such file: %s", clip(name)))
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		if name == "index.html" {
			r2.URL.Path = "/"
		}
		files.ServeHTTP(w, r2)
	})
}

// ConsolePage is one page of the console's navigation. A page shows the
// JSON of Endpoint; the console lists only the pages whose permission the
// user's role grants.
type ConsolePage struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Endpoint string          `json:"endpoint"`
	Perm     auth.Permission `json:"permission"`
}

// builtinPages are the console's pages of this package; later features add
// theirs with AddConsolePage.
func builtinPages() []ConsolePage {
	return []ConsolePage{
		{ID: "status", Title: "Device status", Endpoint: "/v1/status", Perm: auth.PermStatusRead},
		{ID: "users", Title: "Users", Endpoint: "/v1/users", Perm: auth.PermUsersRead},
		{ID: "sessions", Title: "Sessions", Endpoint: "/v1/sessions", Perm: auth.PermUsersRead},
		{ID: "account", Title: "My account", Endpoint: "/v1/session", Perm: auth.PermSelf},
	}
}

// AddConsolePage adds a page to the console's navigation (before Run). The
// endpoint should be a GET route declared with Handle and the same
// permission.
func (s *Server) AddConsolePage(p ConsolePage) error {
	if !p.Perm.Valid() || p.ID == "" || p.Endpoint == "" {
		return errf(0, "", "console page %q: id, endpoint and a valid permission are required", p.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen {
		return errf(0, "", "console page %q: the server is already serving", p.ID)
	}
	s.pages = append(s.pages, p)
	return nil
}

func (s *Server) getPages(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	s.mu.Lock()
	out := []ConsolePage{}
	for _, pg := range s.pages {
		if p.Role.Allows(pg.Perm) {
			out = append(out, pg)
		}
	}
	s.mu.Unlock()
	// The permissions let the console leave out actions the role may not
	// take; the guard refuses them anyway.
	writeJSON(w, http.StatusOK, map[string]any{"pages": out, "user": p.Name, "role": p.Role, "permissions": p.Role.Grants()})
	return nil
}
