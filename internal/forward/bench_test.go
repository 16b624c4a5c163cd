package forward_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/forward"
	"github.com/medguard/medguard/internal/forward/forwardtest"
)

// The benchmarks below measure forwarding to a real rsyslog (gtls, TLS
// 1.3) and, in the same run, the physical limit: the same framed bytes
// written over a plain TLS connection to the same rsyslog. Run them with
//
//	go test -run '^$' -bench Rsyslog -benchtime 1x ./internal/forward/
//
// (each iteration sends a fixed number of events; see docs/forwarding.md).

// framed returns the RFC 5425 frames of entries 1..n as the forwarder
// sends them.
func framed(b *testing.B, n uint64) []byte {
	var out []byte
	for s := uint64(1); s <= n; s++ {
		m, err := forward.FormatRFC5424.Message("icu-monitor-7", 13, forwardtest.GenEntry(s))
		if err != nil {
			b.Fatal(err)
		}
		out = strconv.AppendInt(out, int64(len(m)), 10)
		out = append(out, ' ')
		out = append(out, m...)
	}
	return out
}

// waitCount waits until the counting rsyslog has written n messages and
// returns when that happened.
func waitCount(b *testing.B, r *forwardtest.Rsyslog, n int64, timeout time.Duration) time.Time {
	deadline := time.Now().Add(timeout)
	for {
		if forwardtest.Size(r.Out) >= n {
			return time.Now()
		}
		if time.Now().After(deadline) {
			b.Fatalf("rsyslog wrote %d of %d messages in %v", forwardtest.Size(r.Out), n, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// rawTLS writes data over one TLS 1.3 connection to r and returns the time
// until r has written want messages.
func rawTLS(b *testing.B, r *forwardtest.Rsyslog, data []byte, want int64) time.Duration {
	c, err := tls.Dial("tcp", r.Addr(), &tls.Config{RootCAs: r.CA.Pool(), ServerName: "localhost", MinVersion: tls.VersionTLS13})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	base := forwardtest.Size(r.Out)
	start := time.Now()
	for p := data; len(p) > 0; {
		n := min(len(p), 16<<10)
		if _, err := c.Write(p[:n]); err != nil {
			b.Fatal(err)
		}
		p = p[n:]
	}
	return waitCount(b, r, base+want, 2*time.Minute).Sub(start)
}

// forwardAll runs a forwarder over src to r and returns the time until r
// has written want more messages.
func forwardAll(b *testing.B, r *forwardtest.Rsyslog, src forward.Source, want int64) time.Duration {
	base := forwardtest.Size(r.Out)
	f, err := forward.New(forward.Config{Source: src, Device: "icu-monitor-7", Facility: 13,
		Destinations: []forward.Destination{{Name: "siem", Address: r.Addr(), RootCAs: r.CA.Pool(), ServerName: "localhost", Cursor: &forwardtest.MemCursor{}}}})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	go f.Run(context.Background())
	return waitCount(b, r, base+want, 5*time.Minute).Sub(start)
}

func benchRsyslog(b *testing.B, n uint64) {
	r := forwardtest.StartRsyslog(b, forwardtest.RsyslogOptions{Counting: true})
	data := framed(b, n)
	var fwd, raw time.Duration
	for b.Loop() {
		raw += rawTLS(b, r, data, int64(n))
		fwd += forwardAll(b, r, forwardtest.GenSource{N: n}, int64(n))
	}
	iters := float64(b.N)
	b.ReportMetric(float64(n)*iters/fwd.Seconds(), "events/s")
	b.ReportMetric(float64(n)*iters/raw.Seconds(), "raw-tls-events/s")
	b.ReportMetric(raw.Seconds()/fwd.Seconds(), "ratio-to-raw")
	b.ReportMetric(fwd.Seconds()/iters, "s/backlog")
	b.ReportMetric(float64(len(data))/float64(n), "bytes/event")
}

// BenchmarkRsyslogThroughput: 200,000 events to rsyslog (target ≥ 50,000/s).
func BenchmarkRsyslogThroughput(b *testing.B) { benchRsyslog(b, 200_000) }

// BenchmarkRsyslogCatchUp1M: a backlog of 1,000,000 events (target ≤ 30 s).
func BenchmarkRsyslogCatchUp1M(b *testing.B) { benchRsyslog(b, 1_000_000) }

// BenchmarkRsyslogLatency: one event every 20 ms (low load); the time from
// its append to the log until rsyslog has written it, median and 99th
// percentile, and the same for a raw TLS write of the event's frame.
func BenchmarkRsyslogLatency(b *testing.B) {
	r := forwardtest.StartRsyslog(b, forwardtest.RsyslogOptions{Counting: true})
	src := forwardtest.NewSource()
	f, err := forward.New(forward.Config{Source: src, Device: "icu-monitor-7",
		Destinations: []forward.Destination{{Name: "siem", Address: r.Addr(), RootCAs: r.CA.Pool(), ServerName: "localhost", Cursor: &forwardtest.MemCursor{}}}})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	go f.Run(context.Background())
	src.AppendN(1, "system.warmup")
	waitCount(b, r, 1, 10*time.Second)
	c, err := tls.Dial("tcp", r.Addr(), &tls.Config{RootCAs: r.CA.Pool(), ServerName: "localhost", MinVersion: tls.VersionTLS13})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	frame := framed(b, 1)
	var fwd, raw []time.Duration
	for b.Loop() {
		for range 50 {
			n := forwardtest.Size(r.Out)
			start := time.Now()
			src.AppendN(1, "auth.login.failed")
			fwd = append(fwd, waitCount(b, r, n+1, 10*time.Second).Sub(start))
			time.Sleep(10 * time.Millisecond)
			start = time.Now()
			if _, err := c.Write(frame); err != nil {
				b.Fatal(err)
			}
			raw = append(raw, waitCount(b, r, n+2, 10*time.Second).Sub(start))
			time.Sleep(10 * time.Millisecond)
		}
	}
	slices.Sort(fwd)
	slices.Sort(raw)
	pct := func(d []time.Duration, p float64) float64 {
		return float64(d[int(float64(len(d)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(fwd, 0.5), "p50-ms")
	b.ReportMetric(pct(fwd, 0.99), "p99-ms")
	b.ReportMetric(pct(raw, 0.5), "raw-p50-ms")
	b.ReportMetric(pct(raw, 0.99), "raw-p99-ms")
}

// BenchmarkSendGoSink measures the forwarder alone: formatting, framing
// and TLS to a Go receiver that discards, against a raw TLS write of the
// same bytes to the same receiver.
func BenchmarkSendGoSink(b *testing.B) {
	ca := forwardtest.NewPKI(b, "ca")
	srv := ca.Issue(b, "sink", "localhost")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	counted := make(chan int64, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				n, _ := io.Copy(io.Discard, tls.Server(c, &tls.Config{Certificates: []tls.Certificate{srv.TLS}}))
				counted <- n
			}()
		}
	}()
	const n = 200_000
	data := framed(b, n)
	var fwd, raw time.Duration
	for b.Loop() {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for p := data; len(p) > 0; {
			k := min(len(p), 16<<10)
			c.Write(p[:k])
			p = p[k:]
		}
		c.Close()
		<-counted
		raw += time.Since(start)
		f, _ := forward.New(forward.Config{Source: forwardtest.GenSource{N: n}, Device: "icu-monitor-7", Facility: 13,
			Destinations: []forward.Destination{{Name: "sink", Address: ln.Addr().String(), RootCAs: ca.Pool(), ServerName: "localhost", Cursor: &forwardtest.MemCursor{}}}})
		start = time.Now()
		go f.Run(context.Background())
		for f.Status()[0].Next <= n {
			time.Sleep(time.Millisecond)
		}
		fwd += time.Since(start)
		f.Close()
		<-counted
	}
	b.ReportMetric(float64(n*b.N)/fwd.Seconds(), "events/s")
	b.ReportMetric(float64(n*b.N)/raw.Seconds(), "raw-tls-events/s")
	b.ReportMetric(raw.Seconds()/fwd.Seconds(), "ratio-to-raw")
}

// BenchmarkRsyslogCatchUpRealLog1M: a backlog of 1,000,000 entries in the
// real event log on disk (recorded first, not timed), read, formatted and
// sent to rsyslog; against a raw TLS write of the same messages.
func BenchmarkRsyslogCatchUpRealLog1M(b *testing.B) {
	const n = 1_000_000
	l, _ := forwardtest.OpenLogSize(b, "icu-monitor-7", 2<<30)
	forwardtest.RecordN(b, l, n)
	last := l.Last()
	r := forwardtest.StartRsyslog(b, forwardtest.RsyslogOptions{Counting: true})
	// The raw baseline: the log's first 100,000 messages, framed, ten
	// times over (the same sizes without holding 600 MB).
	src := forward.LogSource(l)
	var chunk []byte
	for next := uint64(1); next <= 100_000; {
		es, err := src.Read(next, 1000)
		if err != nil || len(es) == 0 {
			b.Fatal(err)
		}
		for _, e := range es {
			m, _ := forward.FormatRFC5424.Message("icu-monitor-7", 13, e)
			chunk = strconv.AppendInt(chunk, int64(len(m)), 10)
			chunk = append(chunk, ' ')
			chunk = append(chunk, m...)
			next = e.Event.Seq + 1
		}
	}
	data := bytes.Repeat(chunk, int(last/100_000))
	rawN := int64(last / 100_000 * 100_000)
	var fwd, raw time.Duration
	for b.Loop() {
		raw += rawTLS(b, r, data, rawN)
		fwd += forwardAll(b, r, forward.LogSource(l), int64(last))
	}
	b.ReportMetric(float64(last)*float64(b.N)/fwd.Seconds(), "events/s")
	b.ReportMetric(float64(rawN)*float64(b.N)/raw.Seconds(), "raw-tls-events/s")
	b.ReportMetric((float64(last)/fwd.Seconds())/(float64(rawN)/raw.Seconds()), "ratio-to-raw")
	b.ReportMetric(fwd.Seconds()/float64(b.N), "s/backlog")
}
