package device

import (
	"net/http"
	"time"

	"github.com/medguard/medguard/internal/api"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/disclosure"
)

// serveSecurityTxt adds /.well-known/security.txt (RFC 9116) to the HTTPS
// API when the [disclosure] table names a contact: public, and answered
// before provisioning too, so that a researcher who finds the device can
// always reach its maker. The file is checked before the boot goes on.
func (d *Device) serveSecurityTxt() error {
	c := d.cfg.Config.Disclosure
	if len(c.Contact) == 0 {
		return nil
	}
	opts := func(now time.Time) disclosure.SecurityTxtOptions {
		o := disclosure.SecurityTxtOptions{
			Contact:            c.Contact,
			Expires:            now.Add(time.Duration(c.ValidFor)).UTC().Truncate(time.Second),
			PreferredLanguages: c.PreferredLanguages,
		}
		if c.Policy != "" {
			o.Policy = []string{c.Policy}
		}
		if c.Encryption != "" {
			o.Encryption = []string{c.Encryption}
		}
		if c.CSAF != "" {
			o.CSAF = []string{c.CSAF}
		}
		return o
	}
	if _, err := disclosure.SecurityTxt(opts(d.now()), d.now()); err != nil {
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := d.now()
		txt, err := disclosure.SecurityTxt(opts(now), now)
		if err != nil {
			http.Error(w, "security.txt unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(txt))
	})
	return d.api.HandleRoute(api.Route{Method: "GET", Pattern: "/.well-known/security.txt",
		Perm: auth.PermPublic, Provisioning: true, Handler: h})
}
