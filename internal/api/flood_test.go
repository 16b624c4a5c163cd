package api

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/auth"
)

// configured are the [auth] table's default argon2id parameters.
var configured = auth.Params{Time: 2, MemoryKiB: 19456, Threads: 1}

// sourceClient is an HTTPS client whose connections come from the loopback
// address src, so that each flood client is its own source.
func (e *env) sourceClient(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		DialContext:     d.DialContext,
		TLSClientConfig: &tls.Config{RootCAs: e.pki.pool, MinVersion: tls.VersionTLS13},
	}}
}

func postLogin(c *http.Client, url, user, pw string) (int, error) {
	b, _ := json.Marshal(Credentials{User: user, Password: pw})
	r, err := c.Post(url+"/v1/login", "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return r.StatusCode, nil
}

// heapPeak samples the heap in use until stop is closed.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

type floodResult struct {
	answers    map[int]int
	errs       int
	firstErr   string
	heapGrowth int64         // bytes: peak heap in use during the flood minus before
	validLogin time.Duration // how long the valid user needed; -1 if never
}

// flood sends n concurrent logins with wrong passwords from n loopback
// sources, at the configured argon2id cost, while the valid user alice
// tries to log in from 127.0.0.1.
func flood(t testing.TB, n int) floodResult {
	e := newEnv(t, func(a *auth.Config, _ *Config) { a.Argon2 = configured })
	e.provision()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	stop := make(chan struct{})
	peakc := heapPeak(stop)

	var mu sync.Mutex
	res := floodResult{answers: map[int]int{}}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			c := e.sourceClient(fmt.Sprintf("127.1.%d.%d", i/250, 1+i%250))
			<-start
			code, err := postLogin(c, e.url, fmt.Sprintf("flood%d", i), "not the password, not at all")
			c.CloseIdleConnections()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if res.errs++; res.errs == 1 {
					res.firstErr = err.Error()
				}
				return
			}
			res.answers[code]++
		})
	}
	close(start)
	// The valid user tries during the flood, as a person would: again
	// after "busy".
	okc := make(chan time.Duration, 1)
	go func() {
		c := e.sourceClient("127.0.0.1")
		t0 := time.Now()
		for time.Since(t0) < 60*time.Second {
			if code, _ := postLogin(c, e.url, "alice", adminPW); code == http.StatusOK {
				okc <- time.Since(t0)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		okc <- -1
	}()
	wg.Wait()
	res.validLogin = <-okc
	close(stop)
	res.heapGrowth = int64(<-peakc) - int64(base)
	return res
}

// Attack: 1,000 concurrent login attempts from 1,000 sources, at the
// configured argon2id cost, keep memory within the hashing cap, and a valid
// user still logs in during the flood.
func TestLoginFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("flood test: skipped in -short mode")
	}
	const n = 1000
	r := flood(t, n)
	t.Logf("%d concurrent logins: answers %v, %d failed (first: %s); heap growth %d MiB; valid user in %v",
		n, r.answers, r.errs, r.firstErr, r.heapGrowth>>20, r.validLogin)
	if r.validLogin < 0 {
		t.Fatal("the valid user could not log in during the flood")
	}
	if r.answers[http.StatusUnauthorized] == 0 || r.answers[http.StatusOK] != 0 {
		t.Fatal("the flood's wrong passwords were not checked, or one was accepted")
	}
	// Two hashes at once need 2 × 19 MiB; the connections about 150 KiB
	// each. Without the cap, 1,000 hashes would need 19 GiB.
	budget := int64(2*configured.MemoryKiB)<<10 + n*150<<10 + 64<<20
	if r.heapGrowth > budget {
		t.Fatalf("heap grew by %d MiB, budget %d MiB", r.heapGrowth>>20, budget>>20)
	}
}

// BenchmarkLoginFlood1000 reports the heap growth during 1,000 concurrent
// logins and how long the valid user waited.
func BenchmarkLoginFlood1000(b *testing.B) {
	for range b.N {
		r := flood(b, 1000)
		b.ReportMetric(float64(r.heapGrowth)/(1<<20), "heap-MiB")
		b.ReportMetric(r.validLogin.Seconds(), "valid-login-s")
		b.ReportMetric(float64(r.answers[http.StatusServiceUnavailable]), "busy")
	}
}

// keepAliveClient is an HTTP/1.1 client with one keep-alive connection.
func (e *env) keepAliveClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1,
		TLSClientConfig: &tls.Config{RootCAs: e.pki.pool, MinVersion: tls.VersionTLS13}}}
}

func benchRequests(b *testing.B, path, token string) {
	e := newEnv(b)
	admin := e.provision()
	if token == "admin" {
		token = admin
	}
	c := e.keepAliveClient()
	req, _ := http.NewRequest("GET", e.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	b.ResetTimer()
	for range b.N {
		r, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		if r.StatusCode != 200 {
			b.Fatalf("%s: %d", path, r.StatusCode)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkAuthenticatedRequest: an authenticated API call (bearer token
// checked against the state store, role checked) on a keep-alive HTTPS
// connection.
func BenchmarkAuthenticatedRequest(b *testing.B) { benchRequests(b, "/v1/session", "admin") }

// BenchmarkUnauthenticatedRequest is the limit of the above: the same
// server, connection and answer size, without authentication.
func BenchmarkUnauthenticatedRequest(b *testing.B) { benchRequests(b, "/v1/policy", "") }
