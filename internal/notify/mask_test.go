package notify

import "testing"

// Secret values are masked by their field's name; settings about a secret
// (its length, lifetime, timeout) are numbers the admin must see change.
func TestMaskFields(t *testing.T) {
	in := map[string]string{
		"password": "hunter2-hunter2", "new.passphrase": "p", "old.api.token": "t", "psk": "k",
		"setup_code": "ABCDE", "new.keystore.data_key": "k", "client_secret": "s", "private_pem": "x",
		"old.auth.min_password_length": "15", "new.auth.setup_code_lifetime": "\"30m0s\"",
		"new.auth.session_idle_timeout": "\"15m0s\"", "role": "admin", "user": "nurse",
	}
	out := maskFields(in)
	for k, v := range in {
		secret := map[string]bool{"password": true, "new.passphrase": true, "old.api.token": true, "psk": true,
			"setup_code": true, "new.keystore.data_key": true, "client_secret": true, "private_pem": true}[k]
		if secret && out[k] != Masked {
			t.Errorf("%s = %q: a secret shown", k, out[k])
		}
		if !secret && out[k] != v {
			t.Errorf("%s = %q, want %q (not a secret)", k, out[k], v)
		}
	}
}
