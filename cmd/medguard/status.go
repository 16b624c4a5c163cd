package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// defaultSocket is the local API's socket ([api] socket's default).
const defaultSocket = "/run/medguard/api.sock"

func init() {
	register(&command{
		name:    "status",
		summary: "show the device's state, active warnings and boot report (local socket on the device, else the API)",
		usage:   "medguard [--device URL] status [--json] [--socket PATH] [--ca FILE]",
		example: "medguard status --json\nmedguard --device https://icu-monitor-7:8443 status",
		run:     runStatus,
	})
}

// deviceStatus is the status answer of either API.
type deviceStatus struct {
	Device      string          `json:"device,omitempty"`
	State       string          `json:"state"`
	Since       time.Time       `json:"since,omitzero"`
	Cause       string          `json:"cause,omitempty"`
	Provisioned *bool           `json:"provisioned,omitempty"`
	Warnings    []statusWarning `json:"warnings,omitempty"`
	Boot        json.RawMessage `json:"boot,omitempty"`
}

type statusWarning struct {
	Code     string    `json:"code"`
	Severity string    `json:"severity"`
	Title    string    `json:"title"`
	Cause    string    `json:"cause"`
	Action   string    `json:"action"`
	Since    time.Time `json:"since"`
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlags("status")
	df := deviceFlags(fs)
	socket := fs.String("socket", "", "the local API socket (default $MEDGUARD_SOCKET or "+defaultSocket+")")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("status takes no arguments")
	}
	var raw json.RawMessage
	if *df.device != "" || e.getenv("MEDGUARD_DEVICE") != "" {
		c, err := newDevClient(e, df)
		if err != nil {
			return err
		}
		if err := c.call(ctx, "GET", "/v1/status", nil, &raw); err != nil {
			return err
		}
		var probe struct{ Device string }
		if json.Unmarshal(raw, &probe); probe.Device == "" && c.cred.Token != "" {
			// An ended session counts as none on this public route.
			fmt.Fprintln(e.stderr, "medguard: hint: your session has ended; this is the public status (run \"medguard login\" for more)")
		}
	} else {
		path := *socket
		if path == "" {
			path = e.getenv("MEDGUARD_SOCKET")
		}
		if path == "" {
			path = defaultSocket
		}
		var err error
		if raw, err = localStatus(ctx, path); err != nil {
			return err
		}
	}
	if *asJSON {
		var v any
		json.Unmarshal(raw, &v)
		return printDevJSON(e.stdout, v)
	}
	var st deviceStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("decode status: %w", err)
	}
	printStatus(e.stdout, st)
	return nil
}

// localStatus asks the local API over its unix socket.
func localStatus(ctx context.Context, path string) (json.RawMessage, error) {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://local/v1/local/status/full", nil)
	r, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("local API %s: %w (not on the device? use --device URL)", path, err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("local API %s: %w", path, err)
	}
	if r.StatusCode != http.StatusOK {
		var eb struct{ Error devAPIError }
		json.Unmarshal(b, &eb)
		return nil, fmt.Errorf("local API %s: HTTP %d: %s", path, r.StatusCode, eb.Error.Message)
	}
	return b, nil
}

func printStatus(w io.Writer, st deviceStatus) {
	if st.Device != "" {
		fmt.Fprintf(w, "device:  %s\n", st.Device)
	}
	fmt.Fprintf(w, "state:   %s", st.State)
	if !st.Since.IsZero() {
		fmt.Fprintf(w, " since %s", st.Since.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	if st.Provisioned != nil && !*st.Provisioned {
		fmt.Fprintln(w, "         not provisioned: run \"medguard setup\" with the code on the device's console")
	}
	if st.Cause != "" {
		fmt.Fprintf(w, "cause:   %s\n", st.Cause)
	}
	if st.Device != "" {
		fmt.Fprintf(w, "warnings: %d\n", len(st.Warnings))
	}
	for _, wr := range st.Warnings {
		fmt.Fprintf(w, "  [%s] %s (%s) since %s\n    cause:  %s\n    action: %s\n", wr.Severity, wr.Title, wr.Code, wr.Since.UTC().Format(time.RFC3339), wr.Cause, wr.Action)
	}
	if len(st.Boot) > 0 {
		var v any
		json.Unmarshal(st.Boot, &v)
		b, _ := json.MarshalIndent(v, "  ", "  ")
		fmt.Fprintf(w, "boot report:\n  %s\n", b)
	}
}
