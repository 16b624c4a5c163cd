package integrity

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"filippo.io/age"
)

// publicPrefix starts the text form of a release public key.
const publicPrefix = "medguard-ed25519:"

// privateHeader is the first line of a decrypted private key file.
const privateHeader = "medguard-release-key-v1"

// DefaultWorkFactor is the scrypt work factor (log2 N) used to encrypt a
// private key file: age's default, about one second and 256 MiB.
const DefaultWorkFactor = 18

// PublicKey is a release public key (Ed25519). Its text form is
// "medguard-ed25519:" followed by the standard base64 of the 32 key bytes.
type PublicKey struct{ k ed25519.PublicKey }

// ParsePublicKey parses the text form of a public key; surrounding space is
// ignored.
func ParsePublicKey(s string) (PublicKey, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, publicPrefix)
	if !ok {
		return PublicKey{}, fmt.Errorf("parse public key: want prefix %q", publicPrefix)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(rest)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return PublicKey{}, fmt.Errorf("parse public key: want base64 of %d bytes", ed25519.PublicKeySize)
	}
	return PublicKey{k: ed25519.PublicKey(b)}, nil
}

// String returns the text form of the key.
func (p PublicKey) String() string { return publicPrefix + base64.StdEncoding.EncodeToString(p.k) }

// ID returns the key's identifier: "ed25519:" and the first 16 bytes of the
// SHA-256 of the key, in hex. It is the DSSE keyid of its signatures.
func (p PublicKey) ID() string {
	h := sha256.Sum256(p.k)
	return "ed25519:" + hex.EncodeToString(h[:16])
}

// Equal reports whether p and q are the same key.
func (p PublicKey) Equal(q PublicKey) bool { return p.k.Equal(q.k) }

// verifier adapts a PublicKey to dsse.Verifier.
type verifier struct{ PublicKey }

func (v verifier) Verify(_ context.Context, data, sig []byte) error {
	if len(v.k) != ed25519.PublicKeySize || !ed25519.Verify(v.k, SignedMessage(data), sig) {
		return errors.New("ed25519 signature does not verify")
	}
	return nil
}
func (v verifier) KeyID() (string, error)   { return v.ID(), nil }
func (v verifier) Public() crypto.PublicKey { return v.k }

// sigDomain starts every signed message, so that a medguard signature can
// never be taken for a signature over other 80-byte data.
const sigDomain = "medguard.sig.v1:"

// SignedMessage is what a release key signs with Ed25519 for a DSSE
// envelope: a domain string and the SHA-512 of the envelope's PAE, 80 bytes
// whatever the manifest's size. Signing a digest lets an HSM sign in one
// operation (many HSMs, softhsm2 among them, have no multi-part EdDSA),
// and costs nothing in strength: Ed25519 hashes with SHA-512 anyway.
func SignedMessage(pae []byte) []byte {
	h := sha512.Sum512(pae)
	return append([]byte(sigDomain), h[:]...)
}

// Signer signs manifests: Sign receives the DSSE PAE and must return the
// Ed25519 signature of SignedMessage(pae). PrivateKey is one; PKCS11Key
// (a key in an HSM) is another.
type Signer interface {
	Sign(ctx context.Context, data []byte) ([]byte, error)
	KeyID() (string, error)
	PublicKey() PublicKey
}

// PrivateKey is a release signing key. It never prints its secret (String
// and LogValue redact it); call Zero when done.
type PrivateKey struct{ k ed25519.PrivateKey }

// GenerateKey returns a new random release key.
func GenerateKey() (*PrivateKey, error) {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate release key: %w", err)
	}
	return &PrivateKey{k: k}, nil
}

// PublicKey returns the key's public half.
func (k *PrivateKey) PublicKey() PublicKey {
	return PublicKey{k: k.k.Public().(ed25519.PublicKey)}
}

// Sign implements Signer (and dsse.Signer).
func (k *PrivateKey) Sign(_ context.Context, data []byte) ([]byte, error) {
	if len(k.k) != ed25519.PrivateKeySize {
		return nil, errors.New("sign: release key was zeroed")
	}
	return ed25519.Sign(k.k, SignedMessage(data)), nil
}

// KeyID implements dsse.Signer.
func (k *PrivateKey) KeyID() (string, error) { return k.PublicKey().ID(), nil }

// String redacts the key.
func (k *PrivateKey) String() string { return "PrivateKey(" + k.PublicKey().ID() + ", redacted)" }

// LogValue redacts the key in slog output.
func (k *PrivateKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Zero overwrites the key material; the key is unusable afterwards.
func (k *PrivateKey) Zero() {
	clear(k.k)
	k.k = nil
}

// EncryptPrivateKey returns the private key file for k: the key encrypted
// with passphrase (age, scrypt with work factor 2^logN).
func EncryptPrivateKey(k *PrivateKey, passphrase string, logN int) ([]byte, error) {
	if passphrase == "" {
		return nil, errors.New("encrypt release key: empty passphrase")
	}
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, fmt.Errorf("encrypt release key: %w", err)
	}
	if logN < 10 || logN > 30 {
		return nil, fmt.Errorf("encrypt release key: work factor %d out of range [10, 30]", logN)
	}
	r.SetWorkFactor(logN)
	var out bytes.Buffer
	w, err := age.Encrypt(&out, r)
	if err != nil {
		return nil, fmt.Errorf("encrypt release key: %w", err)
	}
	seed := k.k.Seed()
	defer clear(seed)
	body := []byte(privateHeader + "\n" + base64.StdEncoding.EncodeToString(seed) + "\n")
	defer clear(body)
	if _, err := w.Write(body); err != nil {
		return nil, fmt.Errorf("encrypt release key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt release key: %w", err)
	}
	return out.Bytes(), nil
}

// DecryptPrivateKey opens a private key file written by EncryptPrivateKey.
// A wrong passphrase is an error that says so.
func DecryptPrivateKey(data []byte, passphrase string) (*PrivateKey, error) {
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, fmt.Errorf("decrypt release key: %w", err)
	}
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		return nil, fmt.Errorf("decrypt release key (wrong passphrase or not a key file): %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return nil, fmt.Errorf("decrypt release key: %w", err)
	}
	defer clear(body)
	return parseKeyBody(body)
}

// parseKeyBody parses the decrypted content of a private key file: the
// header line and the base64 Ed25519 seed.
func parseKeyBody(body []byte) (*PrivateKey, error) {
	head, rest, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if head != privateHeader {
		return nil, errors.New("decrypt release key: not a medguard release key")
	}
	seed, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(rest))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("decrypt release key: malformed key")
	}
	defer clear(seed)
	return &PrivateKey{k: ed25519.NewKeyFromSeed(seed)}, nil
}
