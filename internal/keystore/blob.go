package keystore

import (
	"fmt"
)

// Every sealed blob starts with the same six-byte header, so that a blob
// from the other backend, a blob of a later format version, or a file that
// is no blob at all is recognised and named as such:
//
//	offset  size  field
//	0       4     magic "MGKS" (MedGuard Key Store)
//	4       1     format version of the backend's body (1)
//	5       1     backend: 1 = sealed-file, 2 = tpm
//
// The body that follows is the backend's own (see fileblob.go, tpmblob.go).
// The whole header is bound into the blob's authentication, so that it
// cannot be changed without Unseal failing.
const (
	blobMagic      = "MGKS"
	blobHeaderSize = 6

	blobKindFile byte = 1
	blobKindTPM  byte = 2
)

func blobKindName(k byte) string {
	switch k {
	case blobKindFile:
		return "sealed-file"
	case blobKindTPM:
		return "tpm"
	}
	return fmt.Sprintf("unknown backend %d", k)
}

// blobHeader returns the header for a blob of kind and version.
func blobHeader(kind, version byte) []byte {
	return []byte{blobMagic[0], blobMagic[1], blobMagic[2], blobMagic[3], version, kind}
}

// checkBlobHeader checks that blob starts with the header of kind and
// version and returns the body. Its errors wrap ErrUnseal and say what the
// blob is instead.
func checkBlobHeader(blob []byte, kind, version byte) ([]byte, error) {
	if len(blob) < blobHeaderSize {
		return nil, fmt.Errorf("blob truncated: %d bytes, shorter than its %d-byte header: %w", len(blob), blobHeaderSize, ErrUnseal)
	}
	if string(blob[:4]) != blobMagic {
		return nil, fmt.Errorf("not a medguard key blob (no MGKS header): %w", ErrUnseal)
	}
	if blob[5] != kind {
		return nil, fmt.Errorf("blob was sealed by the %s backend, this key store uses %s: %w", blobKindName(blob[5]), blobKindName(kind), ErrUnseal)
	}
	if blob[4] != version {
		return nil, fmt.Errorf("blob has format version %d, this build reads version %d: %w", blob[4], version, ErrUnseal)
	}
	return blob[blobHeaderSize:], nil
}
