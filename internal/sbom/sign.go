package sbom

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Payload types of signed SBOMs in DSSE envelopes.
const (
	PayloadCycloneDX = "application/vnd.cyclonedx+json"
	PayloadSPDX      = "application/spdx+json"
)

// MaxEnvelopeSize bounds a DSSE envelope read from outside.
const MaxEnvelopeSize = MaxSize * 2

// ErrSignature is the security failure of SBOM verification: the
// signature does not verify under the trusted key, or is missing. Callers
// must not mistake it for an I/O problem (STYLE.md, errors).
var ErrSignature = errors.New("sbom signature invalid")

// PrivateKey is an Ed25519 signing key for SBOMs. It never prints its
// secret and can be zeroed.
type PrivateKey struct{ k ed25519.PrivateKey }

// GenerateKey returns a new random signing key.
func GenerateKey() (*PrivateKey, error) {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate sbom signing key: %w", err)
	}
	return &PrivateKey{k: k}, nil
}

// String implements fmt.Stringer without revealing the key.
func (k *PrivateKey) String() string { return "sbom.PrivateKey(" + k.Public().KeyID() + ", redacted)" }

// LogValue implements slog.LogValuer without revealing the key.
func (k *PrivateKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Zero overwrites the key in memory.
func (k *PrivateKey) Zero() { clear(k.k) }

// Public returns the verification key.
func (k *PrivateKey) Public() PublicKey { return PublicKey{k: k.k.Public().(ed25519.PublicKey)} }

// MarshalPEM returns the key as a PKCS #8 PEM block ("PRIVATE KEY"), for a
// file that only the release engineer can read.
func (k *PrivateKey) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.k)
	if err != nil {
		return nil, fmt.Errorf("marshal sbom signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// LoadPrivateKey reads a PKCS #8 PEM Ed25519 key file.
func LoadPrivateKey(path string) (*PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sbom signing key: %w", err)
	}
	defer clear(data)
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("read sbom signing key %s: not a PEM \"PRIVATE KEY\" block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	clear(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read sbom signing key %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("read sbom signing key %s: not an Ed25519 key", path)
	}
	return &PrivateKey{k: ek}, nil
}

// PublicKey verifies SBOM signatures.
type PublicKey struct{ k ed25519.PublicKey }

// KeyID is "sha256:" and the hex SHA-256 of the raw key, first 16 bytes.
func (p PublicKey) KeyID() string {
	h := sha256.Sum256(p.k)
	return "sha256:" + hex.EncodeToString(h[:16])
}

// MarshalPEM returns the key as a PKIX PEM block ("PUBLIC KEY").
func (p PublicKey) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(p.k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKey reads a PKIX PEM Ed25519 public key.
func ParsePublicKey(data []byte) (PublicKey, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PUBLIC KEY" {
		return PublicKey{}, errors.New("parse sbom public key: not a PEM \"PUBLIC KEY\" block")
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return PublicKey{}, fmt.Errorf("parse sbom public key: %w", err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return PublicKey{}, errors.New("parse sbom public key: not an Ed25519 key")
	}
	return PublicKey{k: ek}, nil
}

// dsseSigner adapts PrivateKey to dsse.Signer.
type dsseSigner struct{ k *PrivateKey }

func (s dsseSigner) Sign(_ context.Context, data []byte) ([]byte, error) {
	return ed25519.Sign(s.k.k, data), nil
}
func (s dsseSigner) KeyID() (string, error) { return s.k.Public().KeyID(), nil }

type dsseVerifier struct{ p PublicKey }

func (v dsseVerifier) Verify(_ context.Context, data, sig []byte) error {
	if !ed25519.Verify(v.p.k, data, sig) {
		return ErrSignature
	}
	return nil
}
func (v dsseVerifier) KeyID() (string, error)   { return v.p.KeyID(), nil }
func (v dsseVerifier) Public() crypto.PublicKey { return v.p.k }

// SignEnvelope wraps an SBOM into a DSSE envelope signed with k.
func SignEnvelope(ctx context.Context, k *PrivateKey, payloadType string, sbom []byte) ([]byte, error) {
	es, err := dsse.NewEnvelopeSigner(dsseSigner{k})
	if err != nil {
		return nil, fmt.Errorf("sign sbom: %w", err)
	}
	env, err := es.SignPayload(ctx, payloadType, sbom)
	if err != nil {
		return nil, fmt.Errorf("sign sbom: %w", err)
	}
	return json.MarshalIndent(env, "", " ")
}

// OpenEnvelope verifies a DSSE envelope under p and returns its payload
// type and payload. A bad or missing signature is ErrSignature.
func OpenEnvelope(ctx context.Context, data []byte, p PublicKey) (string, []byte, error) {
	if len(data) > MaxEnvelopeSize {
		return "", nil, fmt.Errorf("open sbom envelope: %d bytes exceeds the limit", len(data))
	}
	var env dsse.Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return "", nil, fmt.Errorf("open sbom envelope: %w", err)
	}
	if env.PayloadType != PayloadCycloneDX && env.PayloadType != PayloadSPDX {
		return "", nil, fmt.Errorf("open sbom envelope: %w: payload type %q is not an SBOM", ErrSignature, env.PayloadType)
	}
	ev, err := dsse.NewEnvelopeVerifier(dsseVerifier{p})
	if err != nil {
		return "", nil, fmt.Errorf("open sbom envelope: %w", err)
	}
	_, payload, err := ev.VerifyAndDecode(ctx, &env)
	if err != nil {
		return "", nil, fmt.Errorf("open sbom envelope: %w: %v", ErrSignature, err)
	}
	return env.PayloadType, payload, nil
}

// detachedPrefix starts a detached signature file.
const detachedPrefix = "medguard-sbom-ed25519 "

// SignDetached returns a detached signature file for sbom: one line,
// "medguard-sbom-ed25519 KEYID BASE64SIG".
func SignDetached(k *PrivateKey, sbom []byte) []byte {
	sig := ed25519.Sign(k.k, sbom)
	return []byte(detachedPrefix + k.Public().KeyID() + " " + base64.StdEncoding.EncodeToString(sig) + "\n")
}

// VerifyDetached checks a detached signature file against sbom under p.
func VerifyDetached(sbom, sigFile []byte, p PublicKey) error {
	f := strings.Fields(string(sigFile))
	if len(f) != 3 || f[0]+" " != detachedPrefix {
		return fmt.Errorf("verify sbom: %w: malformed signature file", ErrSignature)
	}
	if f[1] != p.KeyID() {
		return fmt.Errorf("verify sbom: %w: signed by key %s, not the trusted %s", ErrSignature, f[1], p.KeyID())
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(f[2])
	if err != nil || !ed25519.Verify(p.k, sbom, sig) {
		return fmt.Errorf("verify sbom: %w", ErrSignature)
	}
	return nil
}
