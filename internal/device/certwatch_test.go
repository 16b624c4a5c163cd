package device

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/eventlog/eventlogtest"
	"github.com/medguard/medguard/internal/notify"
)

func testCertificate(t *testing.T, cn string) *tls.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

// A TLS certificate replaced while the daemon runs (keys install-cert: the
// API serves it within a minute) is a device setting changed: it is
// recorded once, and the notifier announces it with old → new.
func TestCertificateChangeIsAnnounced(t *testing.T) {
	cur := testCertificate(t, "icu-monitor-7")
	rec := &eventlogtest.Memory{}
	w := &certWatch{get: func() (*tls.Certificate, error) { return cur, nil }, rec: rec, logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	w.check(ctx)
	w.check(ctx)
	if n := len(rec.Events()); n != 0 {
		t.Fatalf("%d events without a change", n)
	}
	old := cur
	cur = testCertificate(t, "icu-monitor-7.icu.example")
	w.check(ctx)
	w.check(ctx)
	evs := rec.Events()
	if len(evs) != 1 || evs[0].Code != CodeCertificateChanged {
		t.Fatalf("events %v, want one %s", rec.Codes(), CodeCertificateChanged)
	}
	n, err := notify.New(notify.Config{})
	if err != nil {
		t.Fatal(err)
	}
	n.Handle(evs[0])
	no, ok := n.Get(evs[0].Seq)
	if !ok || no.Code != "config.change.settings" {
		t.Fatalf("notification %+v", no)
	}
	changes := map[string]notify.Change{}
	for _, c := range no.Changes {
		changes[c.What] = c
	}
	fp := changes["certificate_sha256"]
	if fp.Old != fingerprint(mustLeaf(t, old)) || fp.New != fingerprint(mustLeaf(t, cur)) || changes["subject"].New != "CN=icu-monitor-7.icu.example" {
		t.Fatalf("changes %+v", no.Changes)
	}
}

func mustLeaf(t *testing.T, c *tls.Certificate) *x509.Certificate {
	t.Helper()
	l, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return l
}
