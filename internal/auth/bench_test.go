package auth

import (
	"context"
	"fmt"
	"testing"

	"golang.org/x/crypto/argon2"
)

// configuredParams are the defaults of the [auth] table.
var configuredParams = Params{Time: 2, MemoryKiB: 19456, Threads: 1}

// BenchmarkLogin measures a whole successful login (throttle check,
// argon2id at the configured cost, store writes, session creation).
func BenchmarkLogin(b *testing.B) {
	f := newFixture(b, func(c *Config) { c.Argon2 = configuredParams })
	f.provision(b)
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := f.a.Login(context.Background(), "alice", adminPW, fmt.Sprintf("192.0.2.%d:1", i%200), "bearer"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkArgon2idRaw is the physical limit of BenchmarkLogin: one
// argon2id hash at the same cost and nothing else.
func BenchmarkArgon2idRaw(b *testing.B) {
	salt := make([]byte, 16)
	for range b.N {
		argon2.IDKey([]byte(adminPW), salt, configuredParams.Time, configuredParams.MemoryKiB, configuredParams.Threads, 32)
	}
}

// BenchmarkAuthenticate measures checking a session token (the per-request
// cost of an authenticated API call).
func BenchmarkAuthenticate(b *testing.B) {
	f := newFixture(b)
	tok, _ := f.provision(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := f.a.Authenticate(ctx, tok, "192.0.2.1:1"); err != nil {
			b.Fatal(err)
		}
	}
}

// benchFailedLogin measures a failed login of name (throttling reset each
// time, so that every attempt does the full work).
func benchFailedLogin(b *testing.B, name string) {
	f := newFixture(b, func(c *Config) { c.Argon2 = configuredParams })
	_, admin := f.provision(b)
	f.addUser(b, admin, "nurse", RoleClinician, nursePW)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		f.a.thr = newThrottle(f.a.now)
		if _, _, err := f.a.Login(ctx, name, "a wrong password, long enough", "192.0.2.9:1", "bearer"); KindOf(err) != KindUnauthenticated {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginFailedKnownUser and BenchmarkLoginFailedUnknownUser show
// that a wrong password and an unknown user cost the same (no user
// enumeration by timing).
func BenchmarkLoginFailedKnownUser(b *testing.B)   { benchFailedLogin(b, "nurse") }
func BenchmarkLoginFailedUnknownUser(b *testing.B) { benchFailedLogin(b, "nobody") }
