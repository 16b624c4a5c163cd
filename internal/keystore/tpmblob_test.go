package keystore

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-tpm/tpm2"
)

func sampleTPMBlob(pcrs []uint) []byte {
	pub := tpm2.New2B(tpm2.TPMTPublic{
		Type:             tpm2.TPMAlgKeyedHash,
		NameAlg:          tpm2.TPMAlgSHA256,
		ObjectAttributes: tpm2.TPMAObject{FixedTPM: true, FixedParent: true, NoDA: true},
		AuthPolicy:       tpm2.TPM2BDigest{Buffer: bytes.Repeat([]byte{7}, 32)},
	})
	priv := tpm2.TPM2BPrivate{Buffer: bytes.Repeat([]byte{9}, 80)}
	b := marshalTPMBlobPrefix(pcrs, pub, priv)
	b = append(b, make([]byte, fileNonceSize)...)
	return append(b, make([]byte, 48)...)
}

func TestParseTPMBlob(t *testing.T) {
	blob := sampleTPMBlob([]uint{0, 7, 23})
	tb, err := parseTPMBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tb.pcrs, []uint{0, 7, 23}) || len(tb.sealed) != 48 || len(tb.nonce) != fileNonceSize {
		t.Fatalf("parsed %+v", tb)
	}
	for n := range len(blob) - 48 + fileTagSize {
		if _, err := parseTPMBlob(blob[:n]); !errors.Is(err, ErrUnseal) {
			t.Fatalf("truncated to %d: err = %v", n, err)
		}
	}
	if _, err := parseTPMBlob(sampleFileBlob(t)); !errors.Is(err, ErrUnseal) {
		t.Fatal("sealed-file blob parsed as a TPM blob")
	}
}

func sampleFileBlob(t testing.TB) []byte {
	b, err := sealFileBlob(make([]byte, 32), [fileKEKIDSize]byte{}, "x", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParseTPMBlob parses arbitrary blobs; what it accepts must re-marshal
// to the same bytes.
func FuzzParseTPMBlob(f *testing.F) {
	f.Add(sampleTPMBlob(nil))
	f.Add(sampleTPMBlob([]uint{7}))
	f.Add([]byte("MGKS\x01\x02\x80\x00\x00\x00\x02\x00\x00"))
	f.Fuzz(func(t *testing.T, blob []byte) {
		tb, err := parseTPMBlob(blob)
		if err != nil {
			if !errors.Is(err, ErrUnseal) {
				t.Fatalf("error does not wrap ErrUnseal: %v", err)
			}
			return
		}
		re := marshalTPMBlobPrefix(tb.pcrs, tb.public, tb.private)
		re = append(re, tb.nonce...)
		re = append(re, tb.sealed...)
		if !bytes.Equal(re, blob) {
			t.Fatalf("re-marshal differs")
		}
	})
}
