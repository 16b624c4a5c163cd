package keystore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// The sealed-file blob, format version 1, after the common header
// (blob.go):
//
//	offset  size  field
//	6       8     KEK id: HKDF-SHA256 of the key-encryption key, info
//	              "medguard keystore sealed-file v1 kek-id"; tells a blob
//	              sealed under another KEK from a damaged one
//	14      12    GCM nonce, random
//	26      n+16  AES-256-GCM ciphertext and tag
//
// The additional authenticated data is bytes 0..26 (header, KEK id and
// nonce) followed by the item name, so that neither the header nor the
// item the blob belongs to can be changed (a blob copied over another
// item's file does not unseal).
const (
	fileBlobVersion  byte = 1
	fileKEKIDSize         = 8
	fileNonceSize         = 12
	fileTagSize           = 16
	fileBlobOverhead      = blobHeaderSize + fileKEKIDSize + fileNonceSize + fileTagSize
	// maxSealedItem bounds what Seal accepts and Unseal reads: key store
	// items are keys, not documents.
	maxSealedItem = 16 << 10
)

// fileAAD returns the additional data for blob prefix p (header, KEK id,
// nonce) and item name.
func fileAAD(p []byte, name string) []byte {
	aad := make([]byte, 0, len(p)+1+len(name))
	aad = append(aad, p...)
	aad = append(aad, 0)
	return append(aad, name...)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealFileBlob encrypts pt for item name under key (32 bytes), with kekID.
func sealFileBlob(key []byte, kekID [fileKEKIDSize]byte, name string, pt []byte) ([]byte, error) {
	if len(pt) > maxSealedItem {
		return nil, fmt.Errorf("item of %d bytes exceeds the limit of %d", len(pt), maxSealedItem)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	blob := make([]byte, 0, fileBlobOverhead+len(pt))
	blob = append(blob, blobHeader(blobKindFile, fileBlobVersion)...)
	blob = append(blob, kekID[:]...)
	var nonce [fileNonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	blob = append(blob, nonce[:]...)
	return aead.Seal(blob, nonce[:], pt, fileAAD(blob, name)), nil
}

// openFileBlob checks and decrypts a sealed-file blob. Every error wraps
// ErrUnseal and says what is wrong with the blob.
func openFileBlob(key []byte, kekID [fileKEKIDSize]byte, name string, blob []byte) ([]byte, error) {
	if len(blob) > fileBlobOverhead+maxSealedItem {
		return nil, fmt.Errorf("blob of %d bytes is larger than any sealed item: %w", len(blob), ErrUnseal)
	}
	body, err := checkBlobHeader(blob, blobKindFile, fileBlobVersion)
	if err != nil {
		return nil, err
	}
	if len(blob) < fileBlobOverhead {
		return nil, fmt.Errorf("blob truncated: %d bytes, a sealed-file blob has at least %d: %w", len(blob), fileBlobOverhead, ErrUnseal)
	}
	if [fileKEKIDSize]byte(body[:fileKEKIDSize]) != kekID {
		return nil, fmt.Errorf("blob was sealed under another key-encryption key (foreign or from another device): %w", ErrUnseal)
	}
	prefix := blob[:blobHeaderSize+fileKEKIDSize+fileNonceSize]
	nonce := prefix[blobHeaderSize+fileKEKIDSize:]
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, nonce, blob[len(prefix):], fileAAD(prefix, name))
	if err != nil {
		return nil, fmt.Errorf("blob fails authentication: damaged, tampered with, or sealed for another item than %q: %w", name, ErrUnseal)
	}
	return pt, nil
}
