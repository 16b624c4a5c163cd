package config

import (
	"errors"
	"testing"
)

// Every rule of the [auth] and [api] tables names its key.
func TestAuthAndAPIRules(t *testing.T) {
	tests := []struct{ doc, key string }{
		{"[auth]\nmin_password_length = 7\n", "auth.min_password_length"},
		{"[auth]\nmin_password_length = 65\n", "auth.min_password_length"},
		{"[auth]\nargon2_time = 0\n", "auth.argon2_time"},
		{"[auth]\nargon2_memory_kib = 4096\n", "auth.argon2_memory_kib"},
		{"[auth]\nargon2_threads = 5\n", "auth.argon2_threads"},
		{"[auth]\nmax_concurrent_hashes = 0\n", "auth.max_concurrent_hashes"},
		{"[auth]\nsession_idle_timeout = \"2h\"\n", "auth.session_idle_timeout"},
		{"[auth]\nsession_absolute_timeout = \"48h\"\n", "auth.session_absolute_timeout"},
		{"[auth]\nreauth_window = \"30m\"\n", "auth.reauth_window"},
		{"[auth]\nsetup_code_lifetime = \"1h\"\n", "auth.setup_code_lifetime"},
		{"[auth]\naccount_max_delay = \"5m\"\n", "auth.account_max_delay"},
		{"[auth]\nsource_max_delay = \"2h\"\n", "auth.source_max_delay"},
		{"[auth]\nmax_consecutive_failures = 101\n", "auth.max_consecutive_failures"},
		{"[auth]\nsession_idle_timeout = 15\n", "auth.session_idle_timeout"},
		{"[api]\nlisten = \"\"\n", "api.listen"},
		{"[api]\nsocket = \"run/api.sock\"\n", "api.socket"},
		{"[api]\nsocket_uids = [-1]\n", "api.socket_uids"},
		{"[api]\nclient_ca_file = \"ca.pem\"\n", "api.client_ca_file"},
		{"[api]\nclient_roles = [\"admin\"]\n", "api.client_roles"},
		{"[api]\nmax_body_bytes = 100\n", "api.max_body_bytes"},
		{"[api]\nmax_header_bytes = 1000000\n", "api.max_header_bytes"},
		{"[api]\nrequest_timeout = \"1s\"\n", "api.request_timeout"},
	}
	for _, tt := range tests {
		_, err := Parse("t.toml", []byte(tt.doc))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Key != tt.key {
			t.Errorf("%q: %v, want an error on %s", tt.doc, err, tt.key)
		}
	}
	ok := "[auth]\nmin_password_length = 8\nargon2_memory_kib = 65536\nsession_idle_timeout = \"5m\"\n[api]\nsocket_uids = [1001]\nclient_roles = [\"technician\", \"service\"]\n"
	c, err := Parse("t.toml", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.MinPasswordLength != 8 || c.Auth.Argon2MemoryKiB != 65536 || c.API.SocketUIDs[0] != 1001 || c.Auth.SessionAbsoluteTimeout.D().Hours() != 12 {
		t.Fatalf("parsed %+v %+v", c.Auth, c.API)
	}
}
