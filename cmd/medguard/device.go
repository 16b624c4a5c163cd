package main

// The devClient side of the device's HTTPS API, shared by setup, login,
// users, sessions and status: which device, how its certificate is trusted
// (pinned on first use, or verified against a CA file), and where the
// session token is kept (the user's config directory, mode 0600).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func init() {
	register(&command{
		name:    "--device",
		summary: "run the command that follows against the device at URL (or set MEDGUARD_DEVICE)",
		usage:   "medguard --device URL COMMAND [ARGS…]   (help of a command: medguard COMMAND --help)",
		example: "medguard --device https://icu-monitor-7:8443 login --user alice --password-stdin",
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) < 2 {
				return usagef("--device needs a URL and a command")
			}
			dev := args[0]
			e2 := *e
			e2.getenv = func(k string) string {
				if k == "MEDGUARD_DEVICE" {
					return dev
				}
				return e.getenv(k)
			}
			if code := run(ctx, &e2, args[1:]); code != exitOK {
				return &exitError{code: code, err: errors.New("")}
			}
			return nil
		},
	})
	register(&command{
		name:    "device forget",
		summary: "forget a device's pinned certificate and stored session token",
		usage:   "medguard device forget [--device URL]",
		example: "medguard --device https://icu-monitor-7:8443 device forget",
		run: func(ctx context.Context, e *env, args []string) error {
			fs := newFlags("device forget")
			df := deviceFlags(fs)
			if _, err := parseFlags(fs, args); err != nil {
				return err
			}
			dev, err := df.url(e)
			if err != nil {
				return err
			}
			st := openDevCredStore(e)
			creds, err := st.load()
			if err != nil {
				return err
			}
			delete(creds, dev)
			if err := st.save(creds); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "forgot %s\n", dev)
			return nil
		},
	})
}

// devFlags are the flags every device command takes.
type devFlags struct {
	device, ca *string
}

func deviceFlags(fs *flag.FlagSet) devFlags {
	return devFlags{
		device: fs.String("device", "", "the device's URL, https://HOST:PORT (default $MEDGUARD_DEVICE)"),
		ca:     fs.String("ca", "", "verify the device's certificate against this CA file instead of pinning it (default $MEDGUARD_CA)"),
	}
}

// url returns the canonical device URL: https only, no path.
func (d devFlags) url(e *env) (string, error) {
	raw := *d.device
	if raw == "" {
		raw = e.getenv("MEDGUARD_DEVICE")
	}
	if raw == "" {
		return "", usagef("which device? give --device URL or set MEDGUARD_DEVICE")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", usagef("device URL %q: want https://HOST:PORT", raw)
	}
	if u.Scheme != "https" {
		return "", usagef("device URL %q: only https is supported (the device has no plaintext listener)", raw)
	}
	if u.Port() == "" {
		u.Host += ":8443"
	}
	return "https://" + u.Host, nil
}

func (d devFlags) caFile(e *env) string {
	if *d.ca != "" {
		return *d.ca
	}
	return e.getenv("MEDGUARD_CA")
}

// devCred is what the CLI keeps per device.
type devCred struct {
	Fingerprint string    `json:"fingerprint,omitempty"` // SHA-256 of the pinned certificate
	User        string    `json:"user,omitempty"`
	Token       string    `json:"token,omitempty"`
	Saved       time.Time `json:"saved,omitzero"`
}

// devCredStore is the file of pinned certificates and tokens:
// $XDG_CONFIG_HOME/medguard/devices.json (or ~/.config/…), mode 0600.
type devCredStore struct{ path string }

func openDevCredStore(e *env) devCredStore {
	dir := e.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		dir = filepath.Join(e.getenv("HOME"), ".config")
	}
	return devCredStore{path: filepath.Join(dir, "medguard", "devices.json")}
}

func (s devCredStore) load() (map[string]devCred, error) {
	m := map[string]devCred{}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.path, err)
	}
	if fi, err := os.Stat(s.path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v): fix with chmod 600", s.path, fi.Mode().Perm())
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", s.path, err)
	}
	return m, nil
}

// save writes the file atomically with mode 0600.
func (s devCredStore) save(m map[string]devCred) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(s.path), ".devices-*")
	if err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	defer os.Remove(f.Name())
	if err = f.Chmod(0o600); err == nil {
		_, err = f.Write(append(b, '\n'))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), s.path)
	}
	if err != nil {
		return fmt.Errorf("save credentials %s: %w", s.path, err)
	}
	return nil
}

// devClient talks to one device.
type devClient struct {
	e      *env
	url    string
	http   *http.Client
	store  devCredStore
	cred   devCred
	pinned string // fingerprint seen on first use, to save
}

// fingerprint formats a certificate's SHA-256 as colon-separated hex.
func certFingerprint(der []byte) string {
	h := sha256.Sum256(der)
	s := strings.ToUpper(hex.EncodeToString(h[:]))
	var b strings.Builder
	for i := 0; i < len(s); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(s[i : i+2])
	}
	return b.String()
}

// pinMismatchError is a security failure: the device shows another
// certificate than the one pinned.
type pinMismatchError struct{ want, got string }

func (e *pinMismatchError) Error() string {
	return fmt.Sprintf("the device's certificate changed: pinned SHA256 %s, now %s — this may be an attack (man in the middle); if the device's certificate was renewed, check the new fingerprint on its console and run \"medguard device forget\"", e.want, e.got)
}

func newDevClient(e *env, d devFlags) (*devClient, error) {
	dev, err := d.url(e)
	if err != nil {
		return nil, err
	}
	c := &devClient{e: e, url: dev, store: openDevCredStore(e)}
	creds, err := c.store.load()
	if err != nil {
		return nil, err
	}
	c.cred = creds[dev]
	tc := &tls.Config{MinVersion: tls.VersionTLS13}
	if ca := d.caFile(e); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", ca)
		}
	} else {
		// Trust on first use: the first certificate seen is pinned; any
		// other later is refused.
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the device sent no certificate")
			}
			got := certFingerprint(cs.PeerCertificates[0].Raw)
			if c.cred.Fingerprint == "" {
				c.pinned = got
				return nil
			}
			if got != c.cred.Fingerprint {
				return &pinMismatchError{want: c.cred.Fingerprint, got: got}
			}
			return nil
		}
	}
	c.http = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}}
	return c, nil
}

// devAPIError is an error answer of the device.
type devAPIError struct {
	Status     int
	Code       string `json:"code"`
	Message    string `json:"message"`
	Reason     string `json:"reason"`
	RetryAfter int    `json:"retry_after"`
}

func (e *devAPIError) Error() string {
	s := e.Message
	if e.Code == "reauth_required" {
		s += "\nmedguard: hint: critical actions need a recent password: run \"medguard reauth --password-stdin\", then repeat the command"
	}
	if e.Code == "unauthenticated" && !strings.Contains(e.Message, "user name") {
		s += "\nmedguard: hint: run \"medguard login\""
	}
	return s
}

// call sends a request with the stored token (if any) and decodes a JSON
// answer into out. Error answers become *devAPIError.
func (c *devClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cred.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cred.Token)
	}
	r, err := c.http.Do(req)
	if err != nil {
		var pm *pinMismatchError
		if errors.As(err, &pm) {
			return &exitError{code: exitTampered, err: pm}
		}
		return fmt.Errorf("%s %s: %w", method, c.url+path, err)
	}
	defer r.Body.Close()
	if err := c.pinIfNew(); err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if r.StatusCode >= 400 {
		var eb struct{ Error devAPIError }
		if json.Unmarshal(b, &eb) != nil || eb.Error.Code == "" {
			return fmt.Errorf("%s %s: HTTP %d", method, path, r.StatusCode)
		}
		eb.Error.Status = r.StatusCode
		return &eb.Error
	}
	if out != nil && r.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// pinIfNew saves a certificate seen for the first time and shows its
// fingerprint, for the user to compare with the device's console.
func (c *devClient) pinIfNew() error {
	if c.pinned == "" {
		return nil
	}
	fp := c.pinned
	c.pinned = ""
	c.cred.Fingerprint = fp
	fmt.Fprintf(c.e.stderr, "medguard: trusting %s on first use; its certificate's SHA256 fingerprint is\n  %s\nmedguard: hint: compare it with the fingerprint on the device's console; a change later is refused\n", c.url, fp)
	return c.saveCred()
}

func (c *devClient) saveCred() error {
	creds, err := c.store.load()
	if err != nil {
		return err
	}
	c.cred.Saved = time.Now().UTC()
	creds[c.url] = c.cred
	return c.store.save(creds)
}

// readPassword reads one line from stdin: only the line end is removed,
// nothing else (no truncation, spaces kept).
func readPasswordLine(e *env) (string, error) {
	b, err := io.ReadAll(io.LimitReader(e.stdin, 4096))
	if err != nil {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", usagef("no password on stdin")
	}
	return line, nil
}

// printJSON writes v indented.
func printDevJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
