package device

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/medguard/medguard/internal/api"
	"github.com/medguard/medguard/internal/auth"
)

// openAccess is boot step 6 (the API part): accounts and sessions, the
// device's TLS certificate, and the declared listeners: the HTTPS API
// with the web console and the local unix-socket API. Nothing else
// listens.
func (d *Device) openAccess(ctx context.Context) (string, error) {
	c := d.cfg.Config
	// The certificate first: a damaged TLS key or certificate stops the
	// boot before accounts are opened or a setup code is issued, so that
	// the refused boot changes nothing on disk.
	ln, err := d.listen(c.API.Listen)
	if err != nil {
		return "", err
	}
	hosts := certHosts(c.Device.Name, ln.Addr())
	if _, err := d.keys.EnsureTLSCertificate(hosts); err != nil {
		ln.Close()
		return "", fmt.Errorf("device TLS certificate: %w", err)
	}
	acfg := auth.FromConfig(c.Auth, c.Device)
	acfg.Store, acfg.Events, acfg.Logger, acfg.Now = d.store, d.rec, d.logger.With("part", "auth"), d.now
	acfg.OnSetupCode = func(code string, exp time.Time) {
		d.fact("setup-code", code)
		d.fact("setup-code-expires", exp.UTC().Format(time.RFC3339))
	}
	acfg.OnProvisioned = func(admin string) {
		// Called from a request; the move is recorded by the log.
		go func() {
			if d.Machine.State() != Provisioning {
				return // e.g. not suitable: provisioning does not change that
			}
			if _, err := d.Machine.Move(context.WithoutCancel(ctx), Operational, "provisioned by admin "+admin, ""); err != nil {
				d.logger.Error("device state", "err", err)
			}
		}()
	}
	a, err := auth.New(acfg)
	if err != nil {
		ln.Close()
		return "", err
	}
	d.auth = a
	d.onClose(a.Close)

	scfg, err := api.FromConfig(c.API, c.Device)
	if err != nil {
		ln.Close()
		return "", err
	}
	scfg.Auth, scfg.Status, scfg.Events, scfg.Logger = a, d, d.rec, d.logger.With("part", "api")
	scfg.GetCertificate = api.CertificateCache(d.keys.TLSCertificate, time.Minute)
	scfg.Listener = ln
	if err := os.MkdirAll(filepath.Dir(c.API.Socket), 0o755); err != nil {
		ln.Close()
		return "", fmt.Errorf("local API socket directory: %w", err)
	}
	srv, err := api.New(scfg)
	if err != nil {
		ln.Close()
		return "", err
	}
	d.api = srv
	d.onClose(srv.Close)
	if err := d.serveSecurityTxt(); err != nil {
		return "", fmt.Errorf("disclosure: %w", err)
	}
	if err := d.mountRoutes(); err != nil {
		return "", err
	}
	d.apiAddr = ln.Addr().String()
	return fmt.Sprintf("https://%s (TLS 1.3), local socket %s", d.apiAddr, c.API.Socket), nil
}

// listen opens the API's TCP listener. In demo mode a busy port falls back
// to a free one, so that a second demo can run beside the first.
func (d *Device) listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil && d.cfg.Demo {
		host, _, _ := net.SplitHostPort(addr)
		ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// certHosts lists the names and addresses the self-signed certificate
// covers.
func certHosts(name string, addr net.Addr) []string {
	hosts := []string{name, "localhost", "127.0.0.1", "::1"}
	if ta, ok := addr.(*net.TCPAddr); ok && !ta.IP.IsUnspecified() && !ta.IP.IsLoopback() {
		hosts = append(hosts, ta.IP.String())
	}
	if h, err := os.Hostname(); err == nil && h != "" && !strings.EqualFold(h, name) {
		hosts = append(hosts, h)
	}
	return hosts
}

// runAccess starts the API's and the accounts' background work in g.
func (d *Device) runAccess(ctx context.Context, g *errgroup.Group) {
	g.Go(func() error { return d.auth.Run(ctx) })
	g.Go(func() error { return d.api.Run(ctx) })
}

// consoleURL is the address people open in a browser.
func (d *Device) consoleURL() string {
	host, port, _ := net.SplitHostPort(d.apiAddr)
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "https://" + net.JoinHostPort(host, port) + "/"
}

// Status implements api.StatusSource: the device state, its active
// warnings and the boot report.
func (d *Device) Status() api.DeviceStatus {
	cur := d.Machine.Current()
	st := api.DeviceStatus{
		Device: d.cfg.Config.Device.Name,
		State:  string(cur.To),
		Since:  cur.Time,
		Boot:   d.Report(),
	}
	if cur.To != Operational {
		st.Cause = cur.Cause
	}
	if d.notify != nil {
		for _, w := range d.notify.ClinicalWarnings() {
			st.Warnings = append(st.Warnings, api.Warning(w))
		}
	}
	// Until the notifier has read the transition from the log, say it
	// here: the clinician must never wait for a warning.
	if cur.To == NotSuitable && !hasCode(st.Warnings, "device.not-suitable") {
		st.Warnings = append(st.Warnings, api.Warning{
			Code: "device.not-suitable", Severity: "critical",
			Title:  "Device not suitable for clinical use",
			Cause:  cur.Cause,
			Action: nonEmpty(cur.Action, "Stop using this device for patient care; use another device and call biomedical engineering."),
			Since:  cur.Time,
		})
	}
	return st
}

func nonEmpty(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func hasCode(ws []api.Warning, code string) bool {
	for _, w := range ws {
		if w.Code == code {
			return true
		}
	}
	return false
}
