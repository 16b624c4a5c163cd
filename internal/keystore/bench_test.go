package keystore_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/keystore/keystoretest"
)

// The benchmarks seal and unseal a 32-byte key, the size of every item.
// Each backend's physical limit is measured in the same run: raw
// AES-256-GCM for the sealed file, one TPM command round trip
// (TPM2_GetRandom) for the TPM.

func benchBackend(b *testing.B, be keystore.Backend) {
	pt := make([]byte, 32)
	rand.Read(pt)
	b.Run("Seal", func(b *testing.B) {
		for b.Loop() {
			if _, err := be.Seal("identity", pt); err != nil {
				b.Fatal(err)
			}
		}
	})
	blob, err := be.Seal("identity", pt)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Unseal", func(b *testing.B) {
		for b.Loop() {
			if _, err := be.Unseal("identity", blob); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFileBackend(b *testing.B) {
	be, err := keystore.EnsureKEKFile(filepath.Join(b.TempDir(), "kek"))
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	benchBackend(b, be)
}

// BenchmarkRawAESGCM is the sealed file's limit: AES-256-GCM of 32 bytes
// with a random nonce, nothing else.
func BenchmarkRawAESGCM(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	pt := make([]byte, 32)
	var nonce [12]byte
	for b.Loop() {
		blk, _ := aes.NewCipher(key)
		g, _ := cipher.NewGCM(blk)
		rand.Read(nonce[:])
		g.Seal(nil, nonce[:], pt, nil)
	}
}

// BenchmarkStoreSecret is what the boot pays per item with the sealed
// file: read the item file and unseal it.
func BenchmarkStoreSecret(b *testing.B) {
	state := b.TempDir()
	kek := filepath.Join(b.TempDir(), "kek")
	keystore.CreateKEKFile(kek)
	s, err := keystore.OpenFromConfig(state, keystore.Config{Backend: "sealed-file", KEKFile: kek})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.EnsureSecret(keystore.ItemDataKey, 32)
	for b.Loop() {
		v, err := s.Secret(keystore.ItemDataKey)
		if err != nil {
			b.Fatal(err)
		}
		v.Zero()
	}
}

func BenchmarkTPMBackend(b *testing.B) {
	tpm := keystoretest.StartSWTPM(b, "")
	for _, pcrs := range [][]int{nil, {7}} {
		name := "NoPCR"
		if pcrs != nil {
			name = "PCR7"
		}
		b.Run(name, func(b *testing.B) {
			be, err := keystore.NewTPMBackend(keystore.TPMConfig{Device: tpm.Device(), PCRs: pcrs})
			if err != nil {
				b.Fatal(err)
			}
			defer be.Close()
			benchBackend(b, be)
		})
	}
	// The limit: one command round trip to the same TPM.
	b.Run("RoundTrip", func(b *testing.B) {
		c, err := net.Dial("tcp", strings.TrimPrefix(tpm.Device(), "tcp://"))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		t := transport.FromReadWriter(c)
		for b.Loop() {
			if _, err := (tpm2.GetRandom{BytesRequested: 8}).Execute(t); err != nil {
				b.Fatal(err)
			}
		}
	})
}
