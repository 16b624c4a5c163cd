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
	"sync/atomic"
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

// Attack: 1,000 concurrent login attempts from 1,000 sources, at the
// configured argon2id cost, keep memory within the hashing cap, and a valid
// user still logs in during the flood.
func TestLoginFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("flood test: skipped in -short mode")
	}
	const n = 1000
	e := newEnv(t, func(a *auth.Config, _ *Config) { a.Argon2 = configured })
	e.provision()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	stop := make(chan struct{})
	peakc := heapPeak(stop)

	var answers [600]atomic.Int32
	var errs atomic.Int32
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			c := e.sourceClient(fmt.Sprintf("127.1.%d.%d", i/250, 1+i%250))
			<-start
			code, err := postLogin(c, e.url, fmt.Sprintf("flood%d", i), "not the password, not at all")
			if err == nil {
				answers[code].Add(1)
			} else if errs.Add(1) == 1 {
				firstErr.Store(err.Error())
			}
			c.CloseIdleConnections()
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
	took := <-okc
	close(stop)
	peak := <-peakc
	growth := int64(peak) - int64(base)
	t.Logf("1000 concurrent logins: 401=%d 503=%d 429=%d, %d failed (first: %v); heap growth %d MiB; valid user in %v",
		answers[401].Load(), answers[503].Load(), answers[429].Load(), errs.Load(), firstErr.Load(), growth>>20, took)
	if took < 0 {
		t.Fatal("the valid user could not log in during the flood")
	}
	if answers[503].Load() == 0 || answers[401].Load() == 0 {
		t.Fatal("the flood was neither refused as busy nor checked")
	}
	// Two hashes at once need 2 × 19 MiB; the connections about 150 KiB
	// each. Without the cap, 1,000 hashes would need 19 GiB.
	budget := int64(2*configured.MemoryKiB)<<10 + n*150<<10 + 64<<20
	if growth > budget {
		t.Fatalf("heap grew by %d MiB, budget %d MiB", growth>>20, budget>>20)
	}
}
