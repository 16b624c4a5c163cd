// Package keystore keeps the device's secrets: its identity key (which signs
// event-log checkpoints and exports), its TLS key and certificate, the event
// log's root MAC key and a data-encryption key for secrets at rest.
//
// The model has two layers. A Backend seals and unseals opaque blobs: the
// TPM 2.0 backend (TPMBackend) binds them to the device's TPM, optionally
// to PCR values; the sealed-file backend (FileBackend) encrypts them with
// AES-256-GCM under a key-encryption key read from a file. A Store keeps
// one sealed blob per named item in its directory (NAME.sealed, written
// atomically, mode 0600) and turns them into typed keys: Identity,
// TLSCertificate, Secret. Nothing secret is ever written to disk in
// plaintext; the TLS certificate chain, which is public, lies beside the
// items as tls-cert.pem.
//
// Every blob names its backend and format version in a common header
// (blob.go) and binds the item name, so that a blob from another device,
// another backend, another item, or one that was changed, truncated or
// extended is refused with an error wrapping ErrUnseal that names the file
// and says which of these it is. ErrUnseal is a security failure, never
// I/O trouble: the boot stops on it.
//
// OpenFromConfig opens the store of a state directory with the backend
// of the [keystore] configuration table. ExportLogVerifier and
// ReadLogVerifier carry the event log's root key and the device's public
// identity, encrypted under a passphrase, to an offline verifier.
//
// Secrets are *Secret values: they never print (every fmt verb and slog
// redact them), compare in constant time and are zeroed by Zero. Backends
// zero their keys in Close. See docs/keys.md.
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
	// ItemLogState is the event log's evolving state (its current MAC
	// key and head), written by internal/eventlog; its presence means the
	// log has started.
	ItemLogState = "log-state"
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
