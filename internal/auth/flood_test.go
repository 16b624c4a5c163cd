package auth

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// Attack: a flood of concurrent logins never runs more hashes at once than
// the cap; the excess is refused as busy, fast; and a valid user still logs
// in.
func TestLoginFloodIsCapped(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Argon2 = Params{Time: 1, MemoryKiB: 8 * 1024, Threads: 1} })
	f.provision(t)
	var wg sync.WaitGroup
	kinds := make(chan Kind, 300)
	for i := range 300 {
		wg.Go(func() {
			_, _, err := f.a.Login(context.Background(), fmt.Sprintf("user%d", i), "wrong wrong wrong wrong", fmt.Sprintf("10.9.%d.%d:1", i/250, i%250), "bearer")
			kinds <- KindOf(err)
		})
	}
	wg.Wait()
	close(kinds)
	count := map[Kind]int{}
	for k := range kinds {
		count[k]++
	}
	if count[KindBusy] == 0 || count[KindUnauthenticated] == 0 || len(count) != 2 {
		t.Fatalf("answers to 300 concurrent logins: %v", count)
	}
	if p := f.a.slots.peak.Load(); p > 2 {
		t.Fatalf("%d hashes ran at once, cap is 2", p)
	}
	loggedIn(t, f, "alice", adminPW)
}
