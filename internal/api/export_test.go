package api

// Test hooks.

// SetSelfUIDForTest makes the server treat uid as its own user on the local
// socket (normally os.Geteuid()).
func (s *Server) setSelfUID(uid int) { s.selfUID = uid }
