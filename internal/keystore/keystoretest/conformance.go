package keystoretest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/medguard/medguard/internal/keystore"
)

// NewBackendFunc returns a fresh backend for a conformance test. Two calls
// must give backends with different protected keys (another KEK, another
// TPM), so that a blob of one is foreign to the other.
type NewBackendFunc func(t *testing.T) keystore.Backend

// RunBackendConformance checks the contract of keystore.Backend that every
// implementation must keep: round trips; the item name is bound; a
// damaged, truncated or foreign blob is refused with keystore.ErrUnseal;
// the plaintext never appears in the blob; Close is idempotent.
func RunBackendConformance(t *testing.T, newBackend NewBackendFunc) {
	b := newBackend(t)
	t.Cleanup(func() { b.Close() })
	secret := make([]byte, 32)
	rand.Read(secret)

	t.Run("RoundTrip", func(t *testing.T) {
		for _, n := range []int{0, 1, 32, 200, 4096} {
			pt := make([]byte, n)
			rand.Read(pt)
			blob, err := b.Seal("item", pt)
			if err != nil {
				t.Fatalf("seal %d bytes: %v", n, err)
			}
			got, err := b.Unseal("item", blob)
			if err != nil {
				t.Fatalf("unseal %d bytes: %v", n, err)
			}
			if !bytes.Equal(got, pt) {
				t.Fatalf("unseal %d bytes: got other bytes", n)
			}
		}
	})

	blob, err := b.Seal("identity", secret)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("NoPlaintextInBlob", func(t *testing.T) {
		if bytes.Contains(blob, secret[:16]) {
			t.Fatal("blob contains the plaintext")
		}
	})

	t.Run("WrongItemName", func(t *testing.T) {
		_, err := b.Unseal("log-root-key", blob)
		wantUnseal(t, err)
	})

	t.Run("EveryByteFlipped", func(t *testing.T) {
		for i := range blob {
			bad := bytes.Clone(blob)
			bad[i] ^= 0x01
			if _, err := b.Unseal("identity", bad); !errors.Is(err, keystore.ErrUnseal) {
				t.Fatalf("byte %d flipped: err = %v, want ErrUnseal", i, err)
			}
		}
	})

	t.Run("Truncated", func(t *testing.T) {
		for n := range blob {
			if _, err := b.Unseal("identity", blob[:n]); !errors.Is(err, keystore.ErrUnseal) {
				t.Fatalf("truncated to %d bytes: err = %v, want ErrUnseal", n, err)
			}
		}
	})

	t.Run("Extended", func(t *testing.T) {
		_, err := b.Unseal("identity", append(bytes.Clone(blob), 0))
		wantUnseal(t, err)
	})

	t.Run("Foreign", func(t *testing.T) {
		other := newBackend(t)
		defer other.Close()
		foreign, err := other.Seal("identity", secret)
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.Unseal("identity", foreign)
		wantUnseal(t, err)
	})

	t.Run("NotABlob", func(t *testing.T) {
		_, err := b.Unseal("identity", []byte("-----BEGIN PRIVATE KEY-----\n"))
		wantUnseal(t, err)
	})

	t.Run("CloseIdempotent", func(t *testing.T) {
		c := newBackend(t)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := c.Seal("identity", secret); err == nil {
			t.Fatal("Seal after Close succeeded")
		}
	})
}

func wantUnseal(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, keystore.ErrUnseal) {
		t.Fatalf("err = %v, want ErrUnseal", err)
	}
}
