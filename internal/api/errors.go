package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"github.com/medguard/medguard/internal/auth"
)

// Error codes that are not auth.Kinds.
const (
	codeBadRequest     = "bad_request"
	codeNotFound       = "not_found"
	codeMethod         = "method_not_allowed"
	codeTooLarge       = "too_large"
	codeMediaType      = "unsupported_media_type"
	codeInternal       = "internal"
	codeCSRF           = "csrf"
	codeNotProvisioned = "not_provisioned"
)

// ErrorBody is the JSON of every error answer:
// {"error":{"code":"…","message":"…"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the error itself. Code is stable; Message is for a person.
type ErrorDetail struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	Reason     string `json:"reason,omitempty"`      // weak_password: which rule
	RetryAfter int    `json:"retry_after,omitempty"` // seconds, for throttled and busy
}

// statusOf maps an auth refusal to an HTTP status.
var statusOf = map[auth.Kind]int{
	auth.KindUnauthenticated: http.StatusUnauthorized,
	auth.KindThrottled:       http.StatusTooManyRequests,
	auth.KindBusy:            http.StatusServiceUnavailable,
	auth.KindForbidden:       http.StatusForbidden,
	auth.KindReauthRequired:  http.StatusForbidden,
	auth.KindWeakPassword:    http.StatusUnprocessableEntity,
	auth.KindNotProvisioned:  http.StatusServiceUnavailable,
	auth.KindProvisioned:     http.StatusConflict,
	auth.KindSetupCode:       http.StatusUnauthorized,
	auth.KindConflict:        http.StatusConflict,
	auth.KindNotFound:        http.StatusNotFound,
	auth.KindInvalid:         http.StatusBadRequest,
	auth.KindSuspended:       http.StatusForbidden,
}

// writeError answers with err: an *auth.Error keeps its kind as the code; a
// *httpError its code; anything else is an internal error whose detail goes
// only to the operational log.
func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	var ae *auth.Error
	var he *httpError
	var d ErrorDetail
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &ae):
		d = ErrorDetail{Code: string(ae.Kind), Message: ae.Msg, Reason: ae.Reason}
		if ae.RetryAfter > 0 {
			d.RetryAfter = int((ae.RetryAfter + 999e6) / 1e9)
			w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfter))
		}
		status = statusOf[ae.Kind]
		if ae.Kind == auth.KindUnauthenticated {
			w.Header().Set("WWW-Authenticate", `Bearer realm="medguard"`)
		}
	case errors.As(err, &he):
		d, status = ErrorDetail{Code: he.code, Message: he.msg}, he.status
	default:
		if log != nil {
			log.Error("request failed", "err", err)
		}
		d = ErrorDetail{Code: codeInternal, Message: "internal error: the device's log has the detail"}
	}
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, ErrorBody{Error: d})
}

// httpError is a refusal of the HTTP layer itself.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errf(status int, code, format string, a ...any) error {
	return &httpError{status: status, code: code, msg: fmt.Sprintf(format, a...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"encode answer"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// decode reads one JSON object of type T from the request body: the
// Content-Type must be application/json (a cross-site form cannot send it
// without a CORS preflight, which this server never grants), unknown fields
// and trailing data are refused, and the size is limited by the body limit.
func decode[T any](r *http.Request) (T, error) {
	var v T
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return v, errf(http.StatusUnsupportedMediaType, codeMediaType, "the request body must be application/json")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return v, errf(http.StatusRequestEntityTooLarge, codeTooLarge, "the request body is larger than %d bytes", mbe.Limit)
		}
		return v, errf(http.StatusBadRequest, codeBadRequest, "read request body: %v", err)
	}
	return decodeBytes[T](body)
}

// decodeBytes is the parser of decode, separate for fuzzing.
func decodeBytes[T any](body []byte) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, errf(http.StatusBadRequest, codeBadRequest, "request body: %v", jsonProblem(err))
	}
	if dec.More() {
		return v, errf(http.StatusBadRequest, codeBadRequest, "request body: data after the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return v, errf(http.StatusBadRequest, codeBadRequest, "request body: data after the JSON object")
	}
	return v, nil
}

// jsonProblem words a JSON decoding error without echoing input at length.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: want %s", te.Field, te.Type)
	case errors.Is(err, io.EOF):
		return "empty body, want a JSON object"
	}
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// WriteError answers with err as JSON, for the handlers that other parts
// mount with Handle: an *auth.Error keeps its kind as the code, an error
// from Errorf its status and code, anything else is a 500 "internal" whose
// detail is not sent.
func WriteError(w http.ResponseWriter, err error) { writeError(w, nil, err) }

// Errorf returns an error that WriteError answers with status and code.
func Errorf(status int, code, format string, a ...any) error { return errf(status, code, format, a...) }

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }
