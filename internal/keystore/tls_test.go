package keystore

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// testCA is a CA that a test creates; nothing is committed.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Hospital Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{c, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// sign issues a certificate for the CSR, valid from nb to na, with eku.
func (ca *testCA) sign(t *testing.T, csrPEM []byte, nb, na time.Time, eku ...x509.ExtKeyUsage) []byte {
	t.Helper()
	b, _ := pem.Decode(csrPEM)
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		t.Fatalf("bad CSR: %v", err)
	}
	if eku == nil {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: csr.Subject, DNSNames: csr.DNSNames, IPAddresses: csr.IPAddresses,
		NotBefore: nb, NotAfter: na, ExtKeyUsage: eku, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestSelfSignedOnFirstStart(t *testing.T) {
	s := newTestStore(t)
	tc, err := s.EnsureTLSCertificate([]string{"monitor-7.icu.example", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.Leaf.VerifyHostname("monitor-7.icu.example"); err != nil {
		t.Fatal(err)
	}
	if err := tc.Leaf.VerifyHostname("192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if _, ok := tc.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Fatalf("key is %T, want ECDSA", tc.PrivateKey)
	}
	// The second start keeps the same certificate.
	tc2, err := s.EnsureTLSCertificate([]string{"other"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tc2.Certificate[0], tc.Certificate[0]) {
		t.Fatal("certificate re-issued on the second start")
	}
	// The certificate file holds no private key.
	data, _ := os.ReadFile(s.certPath())
	if bytes.Contains(data, []byte("PRIVATE")) {
		t.Fatal("certificate file contains a private key")
	}
	// A TLS handshake works with it.
	handshake(t, tc, tc.Leaf)
}

func handshake(t *testing.T, tc *tls.Certificate, root *x509.Certificate) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(root)
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	srv := tls.Server(c1, &tls.Config{Certificates: []tls.Certificate{*tc}, MinVersion: tls.VersionTLS13})
	go srv.Handshake()
	cl := tls.Client(c2, &tls.Config{RootCAs: pool, ServerName: tc.Leaf.DNSNames[0], MinVersion: tls.VersionTLS13})
	if err := cl.Handshake(); err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
}

func TestSelfSignedRenewedBeforeExpiry(t *testing.T) {
	s := newTestStore(t)
	tc, err := s.EnsureTLSCertificate([]string{"dev.example"})
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return tc.Leaf.NotAfter.Add(-selfSignedRenew / 2) }
	tc2, err := s.EnsureTLSCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(tc2.Certificate[0], tc.Certificate[0]) || tc2.Leaf.DNSNames[0] != "dev.example" {
		t.Fatal("self-signed certificate not re-issued for the same names near expiry")
	}
}

func TestInstallCertificate(t *testing.T) {
	s := newTestStore(t)
	ca := newTestCA(t)
	csr, err := s.CSR(pkix.Name{CommonName: "monitor-7"}, []string{"monitor-7.icu.example", "10.1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cert := ca.sign(t, csr, now.Add(-time.Minute), now.Add(time.Hour))
	if err := s.InstallCertificate(append(cert, ca.pem...), ca.pem); err != nil {
		t.Fatal(err)
	}
	tc, err := s.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.Certificate) != 2 || tc.Leaf.Issuer.CommonName != "Hospital Test CA" {
		t.Fatalf("installed chain: %d certificates, issuer %s", len(tc.Certificate), tc.Leaf.Issuer)
	}
	handshake(t, tc, ca.cert)
	// A CA-issued certificate is kept by EnsureTLSCertificate.
	tc2, err := s.EnsureTLSCertificate([]string{"x"})
	if err != nil || !bytes.Equal(tc2.Certificate[0], tc.Certificate[0]) {
		t.Fatalf("EnsureTLSCertificate replaced the CA certificate: %v", err)
	}
}

// TestInstallCertificateRefuses is the attack test of certificate
// installation: each bad chain is refused and the installed one stays.
func TestInstallCertificateRefuses(t *testing.T) {
	s := newTestStore(t)
	ca, otherCA := newTestCA(t), newTestCA(t)
	csr, err := s.CSR(pkix.Name{CommonName: "dev"}, []string{"dev.example"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good := ca.sign(t, csr, now.Add(-time.Minute), now.Add(time.Hour))
	if err := s.InstallCertificate(good, ca.pem); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(s.certPath())

	other := newTestStore(t)
	otherCSR, _ := other.CSR(pkix.Name{CommonName: "dev"}, []string{"dev.example"})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("not really a key")})
	for _, tc := range []struct {
		name      string
		chain, ca []byte
		wantInErr string
	}{
		{"other key", ca.sign(t, otherCSR, now.Add(-time.Minute), now.Add(time.Hour)), ca.pem, "does not hold this device's TLS public key"},
		{"expired", ca.sign(t, csr, now.Add(-2*time.Hour), now.Add(-time.Hour)), ca.pem, "not now"},
		{"not yet valid", ca.sign(t, csr, now.Add(time.Hour), now.Add(2*time.Hour)), ca.pem, "not now"},
		{"other CA", otherCA.sign(t, csr, now.Add(-time.Minute), now.Add(time.Hour)), ca.pem, "does not chain"},
		{"client cert", ca.sign(t, csr, now.Add(-time.Minute), now.Add(time.Hour), x509.ExtKeyUsageClientAuth), nil, "server authentication"},
		{"private key block", append(bytes.Clone(good), keyPEM...), nil, "EC PRIVATE KEY"},
		{"garbage", []byte("hello"), nil, "no PEM certificate"},
		{"trailing garbage", append(bytes.Clone(good), "junk"...), nil, "not PEM"},
		{"empty", nil, nil, "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.InstallCertificate(tc.chain, tc.ca)
			if !errors.Is(err, ErrCertificate) || !strings.Contains(err.Error(), tc.wantInErr) {
				t.Fatalf("err = %v, want ErrCertificate saying %q", err, tc.wantInErr)
			}
			if after, _ := os.ReadFile(s.certPath()); !bytes.Equal(after, before) {
				t.Fatal("refused certificate changed the installed one")
			}
		})
	}
}

func TestInstallCertificateWithoutKey(t *testing.T) {
	s := newTestStore(t)
	ca := newTestCA(t)
	other := newTestStore(t)
	csr, _ := other.CSR(pkix.Name{CommonName: "dev"}, []string{"dev.example"})
	err := s.InstallCertificate(ca.sign(t, csr, time.Now().Add(-time.Minute), time.Now().Add(time.Hour)), nil)
	if !errors.Is(err, ErrCertificate) || !strings.Contains(err.Error(), "no TLS key") {
		t.Fatalf("err = %v", err)
	}
}

// TestTLSCertificateRefusesSwappedFile: a certificate file replaced by one
// for another key (tampering on disk) is refused at load.
func TestTLSCertificateRefusesSwappedFile(t *testing.T) {
	s, other := newTestStore(t), newTestStore(t)
	if _, err := s.EnsureTLSCertificate([]string{"a.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.EnsureTLSCertificate([]string{"a.example"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(other.certPath())
	os.WriteFile(s.certPath(), data, 0o644)
	if _, err := s.TLSCertificate(); !errors.Is(err, ErrCertificate) {
		t.Fatalf("err = %v, want ErrCertificate", err)
	}
}

func TestCSRRefusesBadHost(t *testing.T) {
	s := newTestStore(t)
	for _, h := range []string{"", "bad host", "a..b", "-x.example", "x_y"} {
		if _, err := s.CSR(pkix.Name{CommonName: "x"}, []string{h}); err == nil {
			t.Errorf("host %q accepted", h)
		}
	}
}

func TestCertificateInfo(t *testing.T) {
	s := newTestStore(t)
	tc, err := s.EnsureTLSCertificate([]string{"dev.example", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.CertificateInfo()
	if err != nil {
		t.Fatal(err)
	}
	if !info.SelfSigned || len(info.SHA256) != 64 || info.NotAfter != tc.Leaf.NotAfter.UTC() || info.IPs[0] != "192.0.2.1" {
		t.Fatalf("info %+v", info)
	}
}

// FuzzParseChain: the certificate parser never panics, and accepts only
// CERTIFICATE blocks.
func FuzzParseChain(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		chain, err := parseChain(in)
		if err == nil && len(chain) == 0 {
			t.Fatal("accepted an empty chain")
		}
	})
}
