package api

import (
	"net/http"

	"github.com/medguard/medguard/internal/auth"
)

// NewUser is the body of POST /v1/users.
type NewUser struct {
	Name     string    `json:"name"`
	Role     auth.Role `json:"role"`
	Password string    `json:"password"`
}

// UserPatch is the body of PATCH /v1/users/{name}: the fields to change.
type UserPatch struct {
	Role     *auth.Role `json:"role,omitempty"`
	Disabled *bool      `json:"disabled,omitempty"`
}

func (s *Server) getUsers(w http.ResponseWriter, r *http.Request) error {
	us, err := s.cfg.Auth.Users()
	if err != nil {
		return err
	}
	if us == nil {
		us = []auth.UserInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.cfg.Auth.User(r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) postUser(w http.ResponseWriter, r *http.Request) error {
	req, err := decode[NewUser](r)
	if err != nil {
		return err
	}
	if err := s.cfg.Auth.CreateUser(r.Context(), PrincipalFrom(r.Context()), req.Name, req.Role, req.Password); err != nil {
		return err
	}
	name, _ := auth.CanonicalUser(req.Name)
	u, err := s.cfg.Auth.User(name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) error {
	req, err := decode[UserPatch](r)
	if err != nil {
		return err
	}
	if req.Role == nil && req.Disabled == nil {
		return errf(http.StatusBadRequest, codeBadRequest, "nothing to change: give role or disabled")
	}
	name, p := r.PathValue("name"), PrincipalFrom(r.Context())
	if req.Role != nil {
		if err := s.cfg.Auth.SetRole(r.Context(), p, name, *req.Role); err != nil {
			return err
		}
	}
	if req.Disabled != nil {
		if err := s.cfg.Auth.SetDisabled(r.Context(), p, name, *req.Disabled); err != nil {
			return err
		}
	}
	return s.getUser(w, r)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Auth.DeleteUser(r.Context(), PrincipalFrom(r.Context()), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) putUserPassword(w http.ResponseWriter, r *http.Request) error {
	req, err := decode[PasswordRequest](r)
	if err != nil {
		return err
	}
	if err := s.cfg.Auth.ResetPassword(r.Context(), PrincipalFrom(r.Context()), r.PathValue("name"), req.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getSessions(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.cfg.Auth.Sessions()
	if err != nil {
		return err
	}
	if ss == nil {
		ss = []auth.SessionInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": ss})
	return nil
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Auth.EndSession(r.Context(), PrincipalFrom(r.Context()), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
