package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Handler returns the admin channel's HTTP API. The lead mounts it under
// a prefix, e.g. http.StripPrefix("/v1/notifications", n.Handler()):
//
//	GET  /               the inbox, filtered (see ParseFilter), newest first
//	GET  /{id}           one notification
//	POST /{id}/ack       acknowledge, body {"comment": "…"}
//	GET  /stream         Server-Sent Events; Last-Event-ID replays
//
// Every request is authenticated and authorised through Config.Identify;
// acknowledging needs the manage permission.
func (n *Notifier) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", n.serveList)
	mux.HandleFunc("GET /stream", n.serveStream)
	mux.HandleFunc("GET /{id}", n.serveGet)
	mux.HandleFunc("POST /{id}/ack", n.serveAck)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" {
			r.URL.Path = "/"
		}
		w.Header().Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
}

// identify runs Config.Identify and writes the refusal if there is one.
func (n *Notifier) identify(w http.ResponseWriter, r *http.Request, manage bool) (Identity, bool) {
	if n.cfg.Identify == nil {
		writeError(w, http.StatusUnauthorized, "notifications: no authentication configured")
		return Identity{}, false
	}
	id, err := n.cfg.Identify(r, manage)
	switch {
	case err == nil:
		return id, true
	case errors.Is(err, ErrForbidden):
		writeError(w, http.StatusForbidden, err.Error())
	default:
		writeError(w, http.StatusUnauthorized, err.Error())
	}
	return Identity{}, false
}

func (n *Notifier) serveList(w http.ResponseWriter, r *http.Request) {
	if _, ok := n.identify(w, r, false); !ok {
		return
	}
	f, err := ParseFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list := n.List(f)
	if list == nil {
		list = []Notification{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": list})
}

func (n *Notifier) serveGet(w http.ResponseWriter, r *http.Request) {
	if _, ok := n.identify(w, r, false); !ok {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("notification id %q: not a number", r.PathValue("id")))
		return
	}
	no, ok := n.Get(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("notification %d: %v", id, ErrNotFound))
		return
	}
	writeJSON(w, http.StatusOK, no)
}

// maxAckBody bounds an acknowledgement request.
const maxAckBody = 8 << 10

func (n *Notifier) serveAck(w http.ResponseWriter, r *http.Request) {
	who, ok := n.identify(w, r, true)
	if !ok {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("notification id %q: not a number", r.PathValue("id")))
		return
	}
	var body struct {
		Comment string `json:"comment"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxAckBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "acknowledgement body: want {\"comment\": \"…\"}: "+err.Error())
		return
	}
	no, err := n.Acknowledge(r.Context(), id, who, body.Comment)
	var ce *CommentError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, no)
	case errors.As(err, &ce):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrAlreadyAcked):
		writeError(w, http.StatusConflict, err.Error())
	default:
		n.cfg.Logger.Error("acknowledge notification", "id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "acknowledgement could not be recorded")
	}
}

// serveStream sends every change of the inbox as a Server-Sent Event
// "notification" whose id is "INSTANCE-REVISION". A client that reconnects
// with Last-Event-ID gets what changed after it; one without it, or from
// an earlier process, gets the whole inbox.
func (n *Notifier) serveStream(w http.ResponseWriter, r *http.Request) {
	if _, ok := n.identify(w, r, false); !ok {
		return
	}
	select {
	case n.streams <- struct{}{}:
		defer func() { <-n.streams }()
	default:
		writeError(w, http.StatusServiceUnavailable, "too many open notification streams")
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rev := n.resumeRev(r)
	if _, err := io.WriteString(w, "retry: 3000\n\n"); err != nil {
		return
	}
	hb := time.NewTicker(n.cfg.Heartbeat)
	defer hb.Stop()
	for {
		n.mu.Lock()
		pending, changed := n.inbox.since(rev), n.changed
		n.mu.Unlock()
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		for i := range pending {
			b, _ := json.Marshal(&pending[i])
			if _, err := fmt.Fprintf(w, "id: %s-%d\nevent: notification\ndata: %s\n\n", n.instance, pending[i].rev, b); err != nil {
				return
			}
			rev = pending[i].rev
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-changed:
		case <-hb.C:
			rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-n.closed:
			return
		}
	}
}

// resumeRev returns the revision after which a stream starts.
func (n *Notifier) resumeRev(r *http.Request) uint64 {
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last_event_id")
	}
	inst, revs, ok := strings.Cut(last, "-")
	if !ok || inst != n.instance {
		return 0
	}
	rev, err := strconv.ParseUint(revs, 10, 64)
	if err != nil {
		return 0
	}
	return rev
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// errorCodes are the stable codes of the notifier's refusals, the same as
// the API's for the same status (docs/api.md, "Errors").
var errorCodes = map[int]string{
	http.StatusBadRequest:          "bad_request",
	http.StatusUnauthorized:        "unauthenticated",
	http.StatusForbidden:           "forbidden",
	http.StatusNotFound:            "not_found",
	http.StatusConflict:            "conflict",
	http.StatusInternalServerError: "internal",
	http.StatusServiceUnavailable:  "busy",
}

// writeError answers in the API's error shape,
// {"error": {"code": "…", "message": "…"}}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]map[string]string{"error": {"code": errorCodes[status], "message": msg}})
}
