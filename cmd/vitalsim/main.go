// Command vitalsim is medguard's demo clinical application: a SIMULATED
// patient monitor (heart rate, SpO2, blood pressure, respiration, with
// waveforms) with its own clinical display, a small web page on a loopback
// port. Its data is generated, never a patient's, and every screen says so.
//
// It asks the medguard daemon over the local unix-socket API for the device
// state (GET /v1/local/status) every 200 ms. When the device is not
// suitable for clinical use, the display covers the screen with a warning
// and its cause within a second; when the daemon does not answer, it shows
// a different warning: the state is unknown.
//
//	vitalsim --listen 127.0.0.1:8088 --socket /run/medguard/local.sock
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "vitalsim: error: %v\n", err)
		os.Exit(2)
	}
}

type options struct {
	listen string
	socket string
	poll   time.Duration
	seed   uint64
}

func parseArgs(args []string, getenv func(string) string) (options, error) {
	fs := flag.NewFlagSet("vitalsim", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8088", "loopback address of the clinical display")
	fs.StringVar(&o.socket, "socket", getenv("MEDGUARD_LOCAL_SOCKET"), "the daemon's local API socket (default $MEDGUARD_LOCAL_SOCKET)")
	fs.DurationVar(&o.poll, "poll", 200*time.Millisecond, "how often to ask the daemon for the device state (at most 250ms)")
	fs.Uint64Var(&o.seed, "seed", uint64(time.Now().UnixNano()), "seed of the simulated patient")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.socket == "" {
		return o, errors.New("no local API socket: give --socket or set MEDGUARD_LOCAL_SOCKET")
	}
	if o.poll <= 0 || o.poll > 250*time.Millisecond {
		return o, fmt.Errorf("--poll %v: must be in (0, 250ms] so that a warning shows within a second", o.poll)
	}
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return o, fmt.Errorf("--listen %q: %w", o.listen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return o, fmt.Errorf("--listen %q: the clinical display listens on a loopback address only", o.listen)
	}
	return o, nil
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	o, err := parseArgs(args, getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	p := newPoller(o.socket, o.poll)
	pat := newPatient(o.seed)
	var mu sync.Mutex // guards cur
	cur := pat.step(time.Now())
	srv := &http.Server{
		Handler: (&server{poll: p, now: time.Now, vital: func() Vitals {
			mu.Lock()
			defer mu.Unlock()
			return cur
		}}).handler(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.run(ctx) }()
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				v := pat.step(now)
				mu.Lock()
				cur = v
				mu.Unlock()
			}
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Info("vitalsim: SIMULATED patient monitor (demo data)", "display", "http://"+ln.Addr().String()+"/", "socket", o.socket)
	err = srv.Serve(ln)
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}
