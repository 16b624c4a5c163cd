package api

import (
	"crypto/tls"
	"sync"
	"time"
)

// CertificateCache adapts a certificate loader (the key store's
// TLSCertificate, which unseals the key on every call) to
// Config.GetCertificate: load runs at the first handshake and again at most
// once per interval, so that a newly installed certificate is served
// within that time. If a reload fails, the certificate in use stays.
func CertificateCache(load func() (*tls.Certificate, error), interval time.Duration) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	var (
		mu     sync.Mutex // guards cert and loaded
		cert   *tls.Certificate
		loaded time.Time
	)
	return func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		mu.Lock()
		defer mu.Unlock()
		if cert != nil && time.Since(loaded) < interval {
			return cert, nil
		}
		c, err := load()
		if err != nil {
			if cert != nil {
				loaded = time.Now() // retry after another interval
				return cert, nil
			}
			return nil, err
		}
		cert, loaded = c, time.Now()
		return cert, nil
	}
}
