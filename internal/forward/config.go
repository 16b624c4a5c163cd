package forward

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/state"
)

// maxCAFile bounds a CA file read from the configuration.
const maxCAFile = 1 << 20

// Destinations builds the destinations of the [forward] table: it reads
// and checks each CA file and keeps each destination's cursor in db.
// clientCert returns the device's TLS certificate, for destinations with
// client_certificate = true; it may be nil if none has that setting.
func Destinations(c config.Forward, db state.Store, clientCert func() (*tls.Certificate, error)) ([]Destination, error) {
	var out []Destination
	for _, d := range c.Destinations {
		pool, err := readCAFile(d.CAFile)
		if err != nil {
			return nil, fmt.Errorf("forward destination %s: %w", d.Name, err)
		}
		dest := Destination{Name: d.Name, Address: d.Address, Format: Format(d.Format), RootCAs: pool,
			ServerName: d.ServerName, MinVersion: tls.VersionTLS13, Cursor: StateCursor{DB: db, Name: d.Name}}
		if d.Format == "" {
			dest.Format = FormatRFC5424
		}
		switch d.MinTLSVersion {
		case "", "1.3":
		case "1.2":
			dest.MinVersion = tls.VersionTLS12
		default:
			return nil, fmt.Errorf("forward destination %s: TLS version %q not allowed", d.Name, d.MinTLSVersion)
		}
		if d.ClientCertificate {
			if clientCert == nil {
				return nil, fmt.Errorf("forward destination %s: client_certificate is set but the device has no TLS certificate", d.Name)
			}
			dest.ClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return clientCert() }
		}
		out = append(out, dest)
	}
	return out, nil
}

// readCAFile reads PEM certificates from path.
func readCAFile(path string) (*x509.CertPool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCAFile+1))
	if err != nil {
		return nil, fmt.Errorf("read CA file %s: %w", path, err)
	}
	if len(b) > maxCAFile {
		return nil, fmt.Errorf("read CA file %s: larger than %d bytes", path, maxCAFile)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("read CA file %s: no PEM certificate in it", path)
	}
	return pool, nil
}
