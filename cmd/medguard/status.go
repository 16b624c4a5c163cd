package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
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
		fmt.Fprintf(w, "cause:   %s\n", oneLine(st.Cause))
	}
	if st.Device != "" {
		fmt.Fprintf(w, "warnings: %d\n", len(st.Warnings))
	}
	for _, wr := range st.Warnings {
		fmt.Fprintf(w, "  [%s] %s (%s) since %s\n    cause:  %s\n    action: %s\n", oneLine(wr.Severity), oneLine(wr.Title),
			oneLine(wr.Code), wr.Since.UTC().Format(time.RFC3339), oneLine(wr.Cause), oneLine(wr.Action))
	}
	if len(st.Boot) > 0 && string(st.Boot) != "null" {
		printBootReport(w, st.Boot)
	}
}

// bootReport is the boot report as the daemon sends it (internal/device
// BootReport): the checks in the order they ran.
type bootReport struct {
	BootID   string      `json:"boot_id"`
	Started  time.Time   `json:"started"`
	Finished time.Time   `json:"finished"`
	Checks   []bootCheck `json:"checks"`
}

type bootCheck struct {
	Name       string  `json:"name"`
	Result     string  `json:"result"`
	Detail     string  `json:"detail"`
	DurationMS float64 `json:"duration_ms"`
}

// printBootReport prints the boot report for a person: a table of check,
// result, duration and detail (--json keeps the machine form). A report of
// another shape is printed as sorted "key: value" lines, never as a blob.
func printBootReport(w io.Writer, raw json.RawMessage) {
	var r bootReport
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Checks) == 0 {
		printBootFields(w, raw)
		return
	}
	fmt.Fprint(w, "boot report:")
	if r.BootID != "" {
		fmt.Fprintf(w, " boot %s", r.BootID)
	}
	if !r.Started.IsZero() {
		fmt.Fprintf(w, ", started %s", r.Started.UTC().Format(time.RFC3339))
		if r.Finished.After(r.Started) {
			fmt.Fprintf(w, ", took %s", formatMS(float64(r.Finished.Sub(r.Started).Microseconds())/1000))
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  CHECK\tRESULT\tDURATION\tDETAIL")
	for _, c := range r.Checks {
		result := c.Result
		if result == "failed" {
			result = "FAILED"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", oneLine(c.Name), oneLine(result), formatMS(c.DurationMS), oneLine(c.Detail))
	}
	tw.Flush()
}

// printBootFields prints a boot report that is not a list of checks as
// "key: value" lines.
func printBootFields(w io.Writer, raw json.RawMessage) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		fmt.Fprintf(w, "boot report: %s\n", oneLine(string(raw)))
		return
	}
	fmt.Fprintln(w, "boot report:")
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		v := string(m[k])
		var s string
		if json.Unmarshal(m[k], &s) == nil {
			v = s
		}
		fmt.Fprintf(w, "  %s: %s\n", oneLine(k), oneLine(v))
	}
}

// formatMS prints a duration given in milliseconds with a sensible unit.
func formatMS(ms float64) string {
	switch {
	case ms < 1:
		return fmt.Sprintf("%.0f µs", ms*1000)
	case ms < 1000:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.2f s", ms/1000)
}

// oneLine keeps a device-supplied string on one line of the table and
// free of terminal control characters.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
