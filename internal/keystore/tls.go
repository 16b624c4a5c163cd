package keystore

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"path/filepath"
	"regexp"
	"time"
)

// The device's TLS identity is an ECDSA P-256 key, sealed as the item
// tls-key (its 32-byte scalar), and a certificate chain, which is public and
// kept as PEM beside the sealed items (CertFile). The chain is either
// self-signed by the device on its first start, or issued by the
// hospital's CA from a CSR and installed with InstallCertificate.

// CertFile is the name of the certificate chain file in the key store's
// directory.
const CertFile = "tls-cert.pem"

// Self-signed certificates are valid for selfSignedValidity and re-issued
// when less than selfSignedRenew is left.
const (
	selfSignedValidity = 397 * 24 * time.Hour
	selfSignedRenew    = 30 * 24 * time.Hour
	maxCertFile        = 64 << 10
	maxChain           = 8
)

// ErrCertificate is wrapped by errors about a certificate that is refused:
// it does not match the device's key, is not valid now, or does not chain
// to the given CA.
var ErrCertificate = errors.New("certificate refused")

func (s *Store) certPath() string { return filepath.Join(s.dir, CertFile) }

func (s *Store) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// tlsKey returns the device's TLS key, generating and sealing it first if
// create is true and it does not exist.
func (s *Store) tlsKey(create bool) (*ecdsa.PrivateKey, error) {
	var raw *Secret
	var err error
	if create {
		raw, err = s.ensure(ItemTLSKey, func() ([]byte, error) {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return nil, err
			}
			return k.Bytes()
		})
	} else {
		raw, err = s.Secret(ItemTLSKey)
	}
	if err != nil {
		return nil, err
	}
	defer raw.Zero()
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw.Bytes())
	if err != nil {
		return nil, fmt.Errorf("key store item %s: not a P-256 key: %w", ItemTLSKey, ErrUnseal)
	}
	return k, nil
}

// parseHosts splits host names and IP addresses for a certificate.
func parseHosts(hosts []string) (dns []string, ips []net.IP, err error) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else if hostName.MatchString(h) {
			dns = append(dns, h)
		} else {
			return nil, nil, fmt.Errorf("host %q: neither an IP address nor a DNS name", h)
		}
	}
	return dns, ips, nil
}

var hostName = regexp.MustCompile(`^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// EnsureTLSCertificate returns the device's TLS certificate and key. On
// the first start (no certificate yet) it creates the key and a
// self-signed certificate for hosts (DNS names and IP addresses; the first
// is the subject's common name). A self-signed certificate that expires
// within 30 days is re-issued for the same names; a CA-issued one is never
// replaced here.
func (s *Store) EnsureTLSCertificate(hosts []string) (*tls.Certificate, error) {
	chain, err := s.readChain()
	if errors.Is(err, fs.ErrNotExist) {
		return s.selfSign(hosts)
	}
	if err != nil {
		return nil, err
	}
	leaf := chain[0]
	if isSelfSigned(leaf) && s.clock().Add(selfSignedRenew).After(leaf.NotAfter) {
		names := append(append([]string(nil), leaf.DNSNames...), ipStrings(leaf.IPAddresses)...)
		return s.selfSign(names)
	}
	return s.TLSCertificate()
}

func ipStrings(ips []net.IP) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func (s *Store) selfSign(hosts []string) (*tls.Certificate, error) {
	if len(hosts) == 0 {
		return nil, errors.New("self-signed TLS certificate: no host names or addresses given")
	}
	dns, ips, err := parseHosts(hosts)
	if err != nil {
		return nil, fmt.Errorf("self-signed TLS certificate: %w", err)
	}
	key, err := s.tlsKey(true)
	if err != nil {
		return nil, fmt.Errorf("self-signed TLS certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := s.clock()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"medguard device"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("self-signed TLS certificate: %w", err)
	}
	if err := s.writeChain([][]byte{der}); err != nil {
		return nil, err
	}
	return s.TLSCertificate()
}

// CSR returns a PEM certificate signing request for the device's TLS key
// (created first if it does not exist), with subject and hosts (DNS names
// and IP addresses) as subject alternative names, for the hospital's CA.
func (s *Store) CSR(subject pkix.Name, hosts []string) ([]byte, error) {
	dns, ips, err := parseHosts(hosts)
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	key, err := s.tlsKey(true)
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: subject, DNSNames: dns, IPAddresses: ips,
	}, key)
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// InstallCertificate checks the PEM certificate chain (leaf first) and, if
// it is acceptable, replaces the device's certificate with it atomically.
// It refuses (with an error wrapping ErrCertificate, changing nothing) a
// chain whose leaf does not hold the device's TLS public key, is not valid
// now, is not for server authentication, or, if caPEM is not nil, does not
// chain to one of the CA certificates in caPEM. A PEM block other than a
// certificate (a private key pasted by mistake) is refused too.
func (s *Store) InstallCertificate(chainPEM, caPEM []byte) error {
	chain, err := parseChain(chainPEM)
	if err != nil {
		return fmt.Errorf("install certificate: %w", err)
	}
	key, err := s.tlsKey(false)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("install certificate: the device has no TLS key yet (run medguard keys csr first): %w", ErrCertificate)
	}
	if err != nil {
		return fmt.Errorf("install certificate: %w", err)
	}
	if err := s.checkLeaf(chain, key, caPEM); err != nil {
		return fmt.Errorf("install certificate: %w", err)
	}
	ders := make([][]byte, len(chain))
	for i, c := range chain {
		ders[i] = c.Raw
	}
	return s.writeChain(ders)
}

// checkLeaf applies InstallCertificate's rules (IEC 62443-4-2 CR 1.8:
// public key infrastructure certificates; CR 1.9: validate certificates).
func (s *Store) checkLeaf(chain []*x509.Certificate, key *ecdsa.PrivateKey, caPEM []byte) error {
	leaf, now := chain[0], s.clock()
	if !key.PublicKey.Equal(leaf.PublicKey) {
		return fmt.Errorf("the certificate for %q does not hold this device's TLS public key: %w", leaf.Subject.CommonName, ErrCertificate)
	}
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return fmt.Errorf("the certificate is valid from %s to %s, not now (%s): %w",
			leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), ErrCertificate)
	}
	if len(leaf.ExtKeyUsage) > 0 && !hasServerAuth(leaf.ExtKeyUsage) {
		return fmt.Errorf("the certificate is not for TLS server authentication (extended key usage): %w", ErrCertificate)
	}
	if caPEM == nil {
		return nil
	}
	roots := x509.NewCertPool()
	cas, err := parseChain(caPEM)
	if err != nil {
		return fmt.Errorf("CA file: %w", err)
	}
	for _, c := range cas {
		roots.AddCert(c)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return fmt.Errorf("the certificate does not chain to the given CA: %v: %w", err, ErrCertificate)
	}
	return nil
}

func hasServerAuth(us []x509.ExtKeyUsage) bool {
	for _, u := range us {
		if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// parseChain parses PEM certificates, refusing anything else.
func parseChain(data []byte) ([]*x509.Certificate, error) {
	if len(data) > maxCertFile {
		return nil, fmt.Errorf("larger than %d bytes: %w", maxCertFile, ErrCertificate)
	}
	var chain []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			if len(chain) > 0 && len(bytes.TrimSpace(rest)) != 0 {
				return nil, fmt.Errorf("data that is not PEM after certificate %d: %w", len(chain), ErrCertificate)
			}
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %q, want only CERTIFICATE blocks: %w", len(chain)+1, b.Type, ErrCertificate)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v: %w", len(chain)+1, err, ErrCertificate)
		}
		chain = append(chain, c)
		if len(chain) > maxChain {
			return nil, fmt.Errorf("more than %d certificates: %w", maxChain, ErrCertificate)
		}
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("no PEM certificate found: %w", ErrCertificate)
	}
	return chain, nil
}

func (s *Store) readChain() ([]*x509.Certificate, error) {
	data, err := readFileLimited(s.certPath(), maxCertFile)
	if err != nil {
		return nil, fmt.Errorf("read TLS certificate %s: %w", s.certPath(), err)
	}
	chain, err := parseChain(data)
	if err != nil {
		return nil, fmt.Errorf("read TLS certificate %s: %w", s.certPath(), err)
	}
	return chain, nil
}

func (s *Store) writeChain(ders [][]byte) error {
	var b bytes.Buffer
	for _, d := range ders {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: d})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := writeFileAtomic(s.certPath(), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write TLS certificate %s: %w", s.certPath(), err)
	}
	return nil
}

// TLSCertificate returns the device's certificate chain and TLS key for a
// tls.Config. It refuses a certificate file that does not match the sealed
// key (an error wrapping ErrCertificate). The private key stays in memory
// as long as the returned value is used: crypto/tls needs it.
func (s *Store) TLSCertificate() (*tls.Certificate, error) {
	chain, err := s.readChain()
	if err != nil {
		return nil, err
	}
	key, err := s.tlsKey(false)
	if err != nil {
		return nil, fmt.Errorf("TLS key: %w", err)
	}
	if !key.PublicKey.Equal(chain[0].PublicKey) {
		return nil, fmt.Errorf("TLS certificate %s does not hold this device's TLS public key: %w", s.certPath(), ErrCertificate)
	}
	tc := &tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return tc, nil
}

// CertInfo describes the device's certificate for reports. It holds
// nothing secret.
type CertInfo struct {
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	SelfSigned bool      `json:"self_signed"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	DNSNames   []string  `json:"dns_names,omitempty"`
	IPs        []string  `json:"ip_addresses,omitempty"`
	// SHA256 is the SHA-256 fingerprint of the leaf certificate, in hex.
	SHA256 string `json:"sha256"`
}

// CertificateInfo describes the installed certificate without unsealing
// anything. It returns an error wrapping fs.ErrNotExist if there is none.
func (s *Store) CertificateInfo() (*CertInfo, error) {
	chain, err := s.readChain()
	if err != nil {
		return nil, err
	}
	c := chain[0]
	sum := sha256.Sum256(c.Raw)
	return &CertInfo{
		Subject:    c.Subject.String(),
		Issuer:     c.Issuer.String(),
		SelfSigned: isSelfSigned(c),
		NotBefore:  c.NotBefore.UTC(),
		NotAfter:   c.NotAfter.UTC(),
		DNSNames:   c.DNSNames,
		IPs:        ipStrings(c.IPAddresses),
		SHA256:     hex.EncodeToString(sum[:]),
	}, nil
}
