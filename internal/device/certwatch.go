package device

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// CodeCertificateChanged is the event of a TLS certificate that changed
// while the daemon runs ("medguard keys install-cert" on the device; the
// API serves it within a minute): a device setting changed, which the
// notifier announces as config.change.settings (issue 6, item 4).
const CodeCertificateChanged = "keystore.certificate.changed"

// certWatch reports changes of the device's TLS certificate.
type certWatch struct {
	get    func() (*tls.Certificate, error)
	rec    eventlog.Recorder
	logger *slog.Logger
	last   *x509.Certificate // the certificate seen last; nil if none yet
}

// check reads the certificate and records an event if it is not the one
// seen last. The first call only remembers it.
func (w *certWatch) check(ctx context.Context) {
	c, err := w.get()
	if err != nil || c == nil || len(c.Certificate) == 0 {
		return // the API reports a missing certificate; nothing changed here
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		w.logger.Error("TLS certificate of the key store does not parse", "err", err)
		return
	}
	old := w.last
	w.last = leaf
	if old == nil || old.Equal(leaf) {
		return
	}
	e := eventlog.Event{Code: CodeCertificateChanged, Category: eventlog.CategoryConfig, Severity: eventlog.SeverityNotice,
		Actor: "local", Source: "key store",
		Message: "The device's TLS certificate was replaced; the API now serves " + leaf.Subject.CommonName + ".",
		Cause:   "a new certificate was installed in the key store on the device (medguard keys install-cert)",
		Fields: map[string]string{
			"old.certificate_sha256": fingerprint(old), "new.certificate_sha256": fingerprint(leaf),
			"old.subject": old.Subject.String(), "new.subject": leaf.Subject.String(),
			"old.issuer": old.Issuer.String(), "new.issuer": leaf.Issuer.String(),
			"old.not_after": old.NotAfter.UTC().Format(time.RFC3339), "new.not_after": leaf.NotAfter.UTC().Format(time.RFC3339),
		}}
	if _, err := w.rec.Record(ctx, e); err != nil && ctx.Err() == nil {
		w.logger.Error("record security event", "code", e.Code, "err", err)
	}
}

// run checks every interval until ctx ends.
func (w *certWatch) run(ctx context.Context, every time.Duration) error {
	w.check(ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			w.check(ctx)
		}
	}
}

func fingerprint(c *x509.Certificate) string {
	h := sha256.Sum256(c.Raw)
	return hex.EncodeToString(h[:])
}
