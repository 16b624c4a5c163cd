package keystore

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/google/go-tpm/tpm2"
)

// The TPM blob, format version 1, after the common header (blob.go):
//
//	offset  size  field
//	6       3     PCR bitmap: bit i of byte i/8 set = SHA-256 PCR i is in
//	              the policy (all zero: not bound to PCRs)
//	9       2     length p of the sealed object's public area
//	11      p     TPM2B_PUBLIC of the sealed data object
//	11+p    2     length q of its private area
//	13+p    q     TPM2B_PRIVATE (encrypted and integrity-protected by the
//	              TPM under the owner-hierarchy storage key)
//	13+p+q  12    GCM nonce
//	25+p+q  n+16  AES-256-GCM ciphertext and tag of the item
//
// The sealed data object holds a fresh 32-byte data key; the item itself is
// encrypted with that key, so that items of any size can be sealed (a TPM
// seals at most 128 bytes). The GCM additional data is everything before the
// ciphertext followed by a zero byte and the item name: the PCR selection,
// the TPM object and the item a blob belongs to are all bound.
const tpmBlobVersion byte = 1

const (
	tpmPCRMapSize  = 3
	tpmDataKeySize = 32
	// maxTPMArea bounds the public and private areas read from a blob.
	maxTPMArea = 1024
)

// tpmBlob is a parsed TPM blob.
type tpmBlob struct {
	pcrs    []uint // PCR indices in the policy, ascending
	public  tpm2.TPM2BPublic
	private tpm2.TPM2BPrivate
	prefix  []byte // blob bytes up to and including the nonce
	nonce   []byte
	sealed  []byte // GCM ciphertext and tag
}

func pcrBitmap(pcrs []uint) [tpmPCRMapSize]byte {
	var m [tpmPCRMapSize]byte
	for _, p := range pcrs {
		m[p/8] |= 1 << (p % 8)
	}
	return m
}

func pcrList(m []byte) []uint {
	var pcrs []uint
	for i := range uint(len(m) * 8) {
		if m[i/8]&(1<<(i%8)) != 0 {
			pcrs = append(pcrs, i)
		}
	}
	return pcrs
}

// marshalTPMBlobPrefix returns the blob up to, not including, the nonce.
func marshalTPMBlobPrefix(pcrs []uint, pub tpm2.TPM2BPublic, priv tpm2.TPM2BPrivate) []byte {
	var b bytes.Buffer
	b.Write(blobHeader(blobKindTPM, tpmBlobVersion))
	m := pcrBitmap(pcrs)
	b.Write(m[:])
	for _, area := range [][]byte{tpm2.Marshal(pub), tpm2.Marshal(priv)} {
		b.Write(binary.BigEndian.AppendUint16(nil, uint16(len(area))))
		b.Write(area)
	}
	return b.Bytes()
}

// parseTPMBlob parses a TPM blob strictly. Its errors wrap ErrUnseal.
func parseTPMBlob(blob []byte) (*tpmBlob, error) {
	if len(blob) > maxBlobFile {
		return nil, fmt.Errorf("blob of %d bytes is larger than any sealed item: %w", len(blob), ErrUnseal)
	}
	body, err := checkBlobHeader(blob, blobKindTPM, tpmBlobVersion)
	if err != nil {
		return nil, err
	}
	r := blobReader{b: body}
	pcrMap := r.next(tpmPCRMapSize)
	pubBytes := r.sized()
	privBytes := r.sized()
	nonce := r.next(fileNonceSize)
	if r.err != nil || len(r.b) < fileTagSize {
		return nil, fmt.Errorf("blob truncated or malformed (%d bytes): %w", len(blob), ErrUnseal)
	}
	pub, err := tpm2.Unmarshal[tpm2.TPM2BPublic](pubBytes)
	if err != nil || !bytes.Equal(tpm2.Marshal(pub), pubBytes) {
		return nil, fmt.Errorf("blob's TPM public area is malformed: %w", ErrUnseal)
	}
	if _, err := pub.Contents(); err != nil {
		return nil, fmt.Errorf("blob's TPM public area is malformed: %w", ErrUnseal)
	}
	priv, err := tpm2.Unmarshal[tpm2.TPM2BPrivate](privBytes)
	if err != nil || !bytes.Equal(tpm2.Marshal(priv), privBytes) {
		return nil, fmt.Errorf("blob's TPM private area is malformed: %w", ErrUnseal)
	}
	prefixLen := len(blob) - len(r.b)
	return &tpmBlob{
		pcrs:    pcrList(pcrMap),
		public:  *pub,
		private: *priv,
		prefix:  blob[:prefixLen],
		nonce:   nonce,
		sealed:  r.b,
	}, nil
}

// blobReader reads fields from a blob, remembering the first error.
type blobReader struct {
	b   []byte
	err error
}

func (r *blobReader) next(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = fmt.Errorf("truncated")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *blobReader) sized() []byte {
	l := r.next(2)
	if r.err != nil {
		return nil
	}
	n := int(binary.BigEndian.Uint16(l))
	if n > maxTPMArea {
		r.err = fmt.Errorf("area too large")
		return nil
	}
	return r.next(n)
}
