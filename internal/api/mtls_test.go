package api

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"slices"
	"testing"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/eventlog"
)

// Machine clients with a client certificate get the role the certificate
// carries, never admin, and only roles that the configuration allows.
func TestClientCertificateRole(t *testing.T) {
	var e *env
	e = newEnv(t, func(_ *auth.Config, c *Config) {
		c.ClientRoles = []auth.Role{auth.RoleTechnician}
	})
	// The CA pool is known only after newEnv made the PKI: restart with it.
	p := e.pki
	e = newEnv(t, func(_ *auth.Config, c *Config) {
		c.ClientRoles = []auth.Role{auth.RoleTechnician, auth.RoleAdmin}
		c.ClientCAs = p.pool
		c.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &p.server, nil }
	})
	e.pki = p
	e.provision()
	client := func(ou string) *http.Client {
		cert := p.issue(t, pkix.Name{CommonName: "his-gateway", OrganizationalUnit: []string{ou}}, x509.ExtKeyUsageClientAuth)
		c := e.client()
		c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{cert}
		return c
	}
	tech := client("medguard:technician")
	var st map[string]any
	a := e.do(tech, "GET", "/v1/status", nil)
	a.json(t, &st)
	if st["boot"] == nil {
		t.Fatalf("technician certificate got the anonymous status: %s", a.body)
	}
	if a := e.do(tech, "GET", "/v1/users", nil); a.status != http.StatusForbidden {
		t.Fatalf("technician certificate on users: %d", a.status)
	}
	if a := e.do(client("medguard:admin"), "GET", "/v1/users", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("admin certificate: %d %s", a.status, a.body)
	}
	if a := e.do(client("medguard:service"), "GET", "/v1/session", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("certificate with a role not allowed: %d %s", a.status, a.body)
	}
	// A certificate from another CA is refused in the handshake.
	other := newPKI(t)
	c := e.client()
	c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{other.issue(t, pkix.Name{CommonName: "x", OrganizationalUnit: []string{"medguard:technician"}}, x509.ExtKeyUsageClientAuth)}
	if _, err := c.Get(e.url + "/v1/status"); err == nil {
		t.Fatal("a certificate of a foreign CA was accepted")
	}
	if !slices.ContainsFunc(e.ev.Events(), func(ev eventlog.Event) bool { return ev.Code == "auth.certificate.refused" }) {
		t.Fatal("no event for the refused certificate")
	}
}
