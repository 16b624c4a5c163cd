package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// terminalProgress returns a progress function for long work (verifying a
// log, hashing a software tree) that shows "VERB: 42% (123 of 456 MiB)" on
// standard error when it is a terminal, at most five times a second, and
// a function that clears the line when the work is done. Elsewhere (a
// pipe, a file, a test) it shows nothing. The progress function is safe
// for concurrent use.
func terminalProgress(e *env, verb string) (progress func(done, total int64), stop func()) {
	f, ok := e.stderr.(*os.File)
	if !ok || !isTerminal(f) {
		return func(int64, int64) {}, func() {}
	}
	var mu sync.Mutex // guards last and shown
	last := time.Now()
	shown := false
	progress = func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < 200*time.Millisecond || total <= 0 {
			return
		}
		last, shown = time.Now(), true
		fmt.Fprintf(f, "\r%s: %3d%% (%d of %d MiB)", verb, done*100/total, done>>20, total>>20)
	}
	stop = func() {
		mu.Lock()
		defer mu.Unlock()
		if shown {
			fmt.Fprint(f, "\r\033[K")
		}
	}
	return progress, stop
}
