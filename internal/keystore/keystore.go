// Package keystore keeps the device's secrets: its identity key (which signs
// event-log checkpoints and exports), its TLS key and certificate, the event
// log's root MAC key and a data-encryption key for secrets at rest.
//
// The model has two layers. A Backend seals and unseals opaque blobs: the
// TPM 2.0 backend binds them to the device's TPM (optionally to PCR values),
// the sealed-file backend encrypts them with AES-256-GCM under a
// key-encryption key from a configured source. A Store keeps one sealed blob
// per named item in its directory (written atomically, mode 0600) and turns
// them into typed keys. Nothing is ever written to disk in plaintext.
package keystore

import (
	"errors"
)

// Names of the items every device has.
const (
	// ItemIdentity is the device's Ed25519 identity key.
	ItemIdentity = "identity"
	// ItemLogRootKey is the event log's initial (epoch 0) MAC key.
	ItemLogRootKey = "log-root-key"
	// ItemDataKey is the data-encryption key for secrets at rest.
	ItemDataKey = "data-key"
	// ItemTLSKey is the private key of the device's TLS certificate.
	ItemTLSKey = "tls-key"
)

// ErrNotFound is returned when a named item has never been stored.
var ErrNotFound = errors.New("keystore: item not found")

// Backend seals and unseals small blobs of secret data.
//
// Seal returns a blob that is safe to store on disk: without the backend's
// protected key (the TPM, or the key-encryption key) it reveals nothing and
// cannot be changed without Unseal failing. name is bound into the blob, so
// that a blob sealed for one item does not unseal as another.
//
// Unseal returns an error wrapping ErrUnseal when the blob is foreign,
// damaged, or the TPM refuses it (for example because PCR values changed).
type Backend interface {
	// Kind names the backend for reports: "tpm" or "sealed-file".
	Kind() string
	Seal(name string, plaintext []byte) (blob []byte, err error)
	Unseal(name string, blob []byte) (plaintext []byte, err error)
	Close() error
}

// ErrUnseal marks a blob that the backend refused to unseal. It is a
// security failure (a foreign, tampered or wrongly bound key file), never a
// transient I/O error.
var ErrUnseal = errors.New("keystore: unseal refused")
