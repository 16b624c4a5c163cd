package forward_test

import (
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/forward"
	"github.com/medguard/medguard/internal/forward/forwardtest"
	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/state"
)

func TestDestinationsFromConfig(t *testing.T) {
	dir := t.TempDir()
	ca := forwardtest.NewPKI(t, "ca")
	caFile := forwardtest.WriteFile(t, dir, "ca.pem", ca.PEM)
	junk := forwardtest.WriteFile(t, dir, "junk.pem", []byte("not a certificate"))
	key := make([]byte, 32)
	db, err := state.NewMemory(keystore.NewSecret(key))
	if err != nil {
		t.Fatal(err)
	}
	c := config.Forward{Destinations: []config.ForwardDestination{
		{Name: "a", Address: "siem:6514", CAFile: caFile, MinTLSVersion: "1.3", Format: "rfc5424"},
		{Name: "b", Address: "10.0.0.1:6514", CAFile: caFile, MinTLSVersion: "1.2", Format: "cef", ClientCertificate: true},
	}}
	cert := &tls.Certificate{}
	ds, err := forward.Destinations(c, db, func() (*tls.Certificate, error) { return cert, nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].MinVersion != tls.VersionTLS13 || ds[1].MinVersion != tls.VersionTLS12 ||
		ds[1].Format != forward.FormatCEF || ds[0].ClientCertificate != nil || ds[1].ClientCertificate == nil {
		t.Fatalf("destinations = %+v", ds)
	}
	// Cursors live in the state store, one per destination.
	if err := ds[1].Cursor.Store(4711); err != nil {
		t.Fatal(err)
	}
	if n, _ := ds[1].Cursor.Load(); n != 4711 {
		t.Fatalf("cursor = %d", n)
	}
	if n, _ := ds[0].Cursor.Load(); n != 0 {
		t.Fatalf("cursor of a = %d, want 0 (separate)", n)
	}
	for name, mod := range map[string]func(*config.ForwardDestination){
		"missing CA":                      func(d *config.ForwardDestination) { d.CAFile = filepath.Join(dir, "none.pem") },
		"junk CA":                         func(d *config.ForwardDestination) { d.CAFile = junk },
		"client cert without certificate": func(d *config.ForwardDestination) { d.ClientCertificate = true },
	} {
		d := c.Destinations[0]
		mod(&d)
		if _, err := forward.Destinations(config.Forward{Destinations: []config.ForwardDestination{d}}, db, nil); err == nil || !strings.Contains(err.Error(), "destination a") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
