package config

import "path/filepath"

// API is the [api] table: the HTTPS API with the web console, and the local
// API on a unix socket (docs/api.md).
type API struct {
	Listen         string   `toml:"listen" doc:"Address of the HTTPS API and web console (TLS 1.3 only; there is no plaintext listener). Default: \":8443\"."`
	Socket         string   `toml:"socket" doc:"Path of the local API's unix socket, for the clinical application on the device. An absolute path. Default: /run/medguard/api.sock."`
	SocketUIDs     []int    `toml:"socket_uids" doc:"User ids, besides the daemon's own, allowed on the local socket (checked with SO_PEERCRED), e.g. the clinical application's user. Default: [] (only the daemon's user)."`
	ClientCAFile   string   `toml:"client_ca_file" doc:"PEM file of the CA certificates that sign machine clients' certificates (mutual TLS). The role comes from the certificate's organizational unit \"medguard:ROLE\". Empty: no client certificates are accepted. Default: \"\"."`
	ClientRoles    []string `toml:"client_roles" doc:"Roles that a client certificate may carry; admin is never accepted, as critical actions need a password. Any of clinician, technician, service. Default: [\"technician\"]."`
	MaxBodyBytes   int      `toml:"max_body_bytes" doc:"Largest request body accepted, in bytes. Range 1024 to 1048576. Default: 65536."`
	MaxHeaderBytes int      `toml:"max_header_bytes" doc:"Largest request header accepted, in bytes. Range 1024 to 65536. Default: 8192."`
	RequestTimeout Duration `toml:"request_timeout" doc:"Time limit for reading a request and writing its answer. Range 5s to 5m. Default: 30s."`
}

func defaultAPI() API {
	return API{Listen: ":8443", Socket: "/run/medguard/api.sock", SocketUIDs: []int{},
		ClientRoles: []string{"technician"}, MaxBodyBytes: 65536, MaxHeaderBytes: 8192,
		RequestTimeout: Duration(30e9)}
}

func (a *API) validate() []FieldError {
	var errs []FieldError
	if a.Listen == "" {
		errs = append(errs, FieldError{Key: "api.listen", Msg: "must not be empty"})
	}
	if !filepath.IsAbs(a.Socket) {
		errs = append(errs, FieldError{Key: "api.socket", Msg: "must be an absolute path"})
	}
	for _, u := range a.SocketUIDs {
		errs = append(errs, inRange("api.socket_uids", u, 0, 1<<31-2)...)
	}
	if a.ClientCAFile != "" && !filepath.IsAbs(a.ClientCAFile) {
		errs = append(errs, FieldError{Key: "api.client_ca_file", Msg: "must be an absolute path"})
	}
	for _, r := range a.ClientRoles {
		errs = append(errs, oneOf("api.client_roles", r, "clinician", "technician", "service")...)
	}
	errs = append(errs, inRange("api.max_body_bytes", a.MaxBodyBytes, 1024, 1<<20)...)
	errs = append(errs, inRange("api.max_header_bytes", a.MaxHeaderBytes, 1024, 65536)...)
	errs = append(errs, inRange("api.request_timeout", a.RequestTimeout, Duration(5e9), Duration(300e9))...)
	return errs
}
