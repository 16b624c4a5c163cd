package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/auth"
)

// fuzzJSONRoute feeds arbitrary bodies to one JSON route of a provisioned
// device, as the admin (so that every handler's decoding and logic run),
// and checks that the answer is never an internal error and always
// well-formed JSON with a stable code.
func fuzzJSONRoute(f *testing.F, method, path string, seeds ...string) {
	e := newEnv(f)
	admin := e.provision()
	// bob is the target of the user routes, so that a body that succeeds
	// (a new role, a new password) ends bob's sessions, not the caller's,
	// and the next inputs still reach the handler's logic.
	if a := e.do(e.client(), "POST", "/v1/users", NewUser{Name: "bob", Role: auth.RoleTechnician, Password: nursePW}, bearer(admin)...); a.status != http.StatusCreated {
		f.Fatalf("create bob: %d %s", a.status, a.body)
	}
	h := e.srv.Handler()
	for _, s := range append(seeds, "", "{}", "null", "[]", `{"a":1}`, "{\"user\":\"\\u0000\"}", strings.Repeat("[", 1000)) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.RemoteAddr = "192.0.2.50:1234"
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s with %q: %d %s", method, path, body, w.Code, w.Body)
		}
		if w.Code == http.StatusNoContent {
			return
		}
		var v map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %s with %q: answer is not JSON: %s", method, path, body, w.Body)
		}
		if w.Code >= 400 {
			var eb ErrorBody
			json.Unmarshal(w.Body.Bytes(), &eb)
			if eb.Error.Code == "" || eb.Error.Message == "" {
				t.Fatalf("error answer without code or message: %s", w.Body)
			}
		}
		if bytes.Contains(w.Body.Bytes(), []byte(admin)) {
			t.Fatal("the answer contains the caller's token")
		}
	})
}

func FuzzSetupHandler(f *testing.F) {
	fuzzJSONRoute(f, "POST", "/v1/setup", `{"code":"7K3QD-9XW2M-ABCDE-FGHJK","user":"bob","password":"a long enough passphrase"}`, `{"kind":"cookie"}`)
}

func FuzzLoginHandler(f *testing.F) {
	fuzzJSONRoute(f, "POST", "/v1/login", `{"user":"alice","password":"`+adminPW+`"}`, `{"user":"alice","password":"x","kind":"cookie"}`, `{"user":5}`)
}

func FuzzReauthHandler(f *testing.F) {
	fuzzJSONRoute(f, "POST", "/v1/session/reauth", `{"password":"`+adminPW+`"}`, `{"password":""}`)
}

func FuzzPasswordHandler(f *testing.F) {
	fuzzJSONRoute(f, "POST", "/v1/password", `{"current":"wrong","new":"a new long passphrase here"}`)
}

func FuzzCreateUserHandler(f *testing.F) {
	fuzzJSONRoute(f, "POST", "/v1/users", `{"name":"nurse","role":"clinician","password":"`+nursePW+`"}`, `{"name":"x","role":"root","password":""}`)
}

func FuzzPatchUserHandler(f *testing.F) {
	fuzzJSONRoute(f, "PATCH", "/v1/users/bob", `{"role":"clinician"}`, `{"disabled":true}`, `{"role":null}`)
}

func FuzzResetPasswordHandler(f *testing.F) {
	fuzzJSONRoute(f, "PUT", "/v1/users/bob/password", `{"password":"`+nursePW+`"}`)
}

// FuzzDecode checks the strict JSON decoder on its own: it accepts exactly
// one object of known fields.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"user":"a","password":"b","kind":"bearer"}`))
	f.Add([]byte(`{"user":"a"}{"user":"b"}`))
	f.Add([]byte(`{"user":"a","extra":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeBytes[Credentials](b)
		if err != nil {
			return
		}
		again, _ := json.Marshal(v)
		if _, err := decodeBytes[Credentials](again); err != nil {
			t.Fatalf("re-encoded %s refused: %v", again, err)
		}
	})
}
