package api

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/keystore"
)

// The real key store's certificate (sealed-file backend, self-signed on
// first start) served through CertificateCache: what the daemon wires.
func TestServesKeyStoreCertificate(t *testing.T) {
	dir := t.TempDir()
	kek := filepath.Join(dir, "kek")
	b := make([]byte, 32)
	rand.Read(b)
	if err := os.WriteFile(kek, b, 0o600); err != nil {
		t.Fatal(err)
	}
	backend, err := keystore.NewFileBackend(kek)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keystore.Open(filepath.Join(dir, "keys"), backend)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	cert, err := ks.EnsureTLSCertificate([]string{"icu-monitor-7", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(_ *auth.Config, c *Config) {
		c.GetCertificate = CertificateCache(ks.TLSCertificate, time.Minute)
	})
	conn, err := tls.Dial("tcp", strings.TrimPrefix(e.url, "https://"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	st := conn.ConnectionState()
	if st.Version != tls.VersionTLS13 || !bytes.Equal(st.PeerCertificates[0].Raw, cert.Certificate[0]) {
		t.Fatalf("served version %x, certificate of the key store: %v", st.Version, bytes.Equal(st.PeerCertificates[0].Raw, cert.Certificate[0]))
	}
}
