package api

import (
	"crypto/tls"
	"errors"
	"testing"
	"time"
)

func TestCertificateCache(t *testing.T) {
	p := newPKI(t)
	calls, fail := 0, true
	get := CertificateCache(func() (*tls.Certificate, error) {
		calls++
		if fail {
			return nil, errors.New("unseal failed")
		}
		return &p.server, nil
	}, time.Hour)
	if _, err := get(nil); err == nil {
		t.Fatal("no certificate and a failing loader: no error")
	}
	fail = false
	for range 3 {
		if c, err := get(nil); err != nil || c != &p.server {
			t.Fatalf("get: %v", err)
		}
	}
	if calls != 2 {
		t.Fatalf("loader called %d times, want 2 (cached)", calls)
	}
	get = CertificateCache(func() (*tls.Certificate, error) {
		calls++
		if calls > 3 {
			return nil, errors.New("unseal failed")
		}
		return &p.server, nil
	}, 0)
	get(nil)
	if c, err := get(nil); err != nil || c != &p.server {
		t.Fatalf("a failed reload dropped the certificate in use: %v", err)
	}
}
