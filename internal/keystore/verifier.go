package keystore

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"filippo.io/age"
)

// A log verifier file lets someone away from the device (an auditor, the
// hospital's IT) verify the device's event log offline with
// "medguard log verify --key FILE": it holds the event log's root MAC key
// and the device's public identity key, encrypted with age under a
// passphrase (scrypt). The root MAC key is a secret: whoever holds it can
// forge MACs of the log, which is why the file is encrypted and the
// export is an admin operation (IEC 62443-4-2 CR 3.9, CR 4.1).
//
// The plaintext inside the age envelope is a small, strict text format:
//
//	medguard log verifier v1
//	device: NAME
//	device-public-key: BASE64 (32 bytes, Ed25519)
//	log-root-key: BASE64 (16 to 64 bytes)
//
// every line ending in "\n", in this order, nothing else.

// LogVerifier is what "medguard log verify --key FILE" needs to verify a
// device's event log offline.
type LogVerifier struct {
	// DeviceName is the device's name (device.name) at export time.
	DeviceName string
	// DevicePublicKey is the device's Ed25519 identity public key, which
	// signs event-log checkpoints.
	DevicePublicKey ed25519.PublicKey
	// RootKey is the event log's root (epoch 0) MAC key. Zero it when done.
	RootKey *Secret
}

// Zero zeroes the root key.
func (v *LogVerifier) Zero() {
	if v != nil {
		v.RootKey.Zero()
	}
}

// ErrWrongPassphrase is returned by ReadLogVerifier when the passphrase
// does not open the file.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// ErrBadVerifierFile is wrapped by every error ReadLogVerifier returns for
// a file that is damaged or not a log verifier file.
var ErrBadVerifierFile = errors.New("not a valid medguard log verifier file")

const verifierMagic = "medguard log verifier v1\n"

// Size limits for what is read from outside.
const (
	maxVerifierFile  = 64 << 10 // the age file
	maxVerifierPlain = 1 << 10  // the plaintext inside
	minPassphrase    = 8
	minRootKey       = 16
	maxRootKey       = 64
)

// scryptWorkFactor is the age scrypt work factor (log2 N) of exports
// (2^18: 256 MiB and about a second); tests lower it. maxScryptWorkFactor
// bounds what a reader accepts, so that a hostile file cannot make it
// allocate gigabytes or compute for minutes (2^19: 512 MiB).
var (
	scryptWorkFactor    = 18
	maxScryptWorkFactor = 19
)

// ExportLogVerifier writes the log verifier file for this device to w: the
// item log-root-key and the device's public identity key, encrypted with
// passphrase (at least 8 bytes). deviceName is the device's configured
// name. Both keys are created if they do not exist yet.
func (s *Store) ExportLogVerifier(w io.Writer, deviceName string, passphrase []byte) error {
	if len(passphrase) < minPassphrase {
		return fmt.Errorf("export log verifier: passphrase must be at least %d bytes", minPassphrase)
	}
	if !verifierDeviceName.MatchString(deviceName) {
		return fmt.Errorf("export log verifier: device name %q: must match %s", deviceName, verifierDeviceName)
	}
	root, pub, err := s.logVerifierKeys()
	if err != nil {
		return fmt.Errorf("export log verifier: %w", err)
	}
	defer root.Zero()
	return writeLogVerifier(w, &LogVerifier{DeviceName: deviceName, DevicePublicKey: pub, RootKey: root}, passphrase)
}

// logVerifierKeys returns the log's root key and the device's public
// identity. Before the event log has started (no ItemLogState) both are
// created, so that a verifier can be exported before the first boot. Once
// it has started, neither is ever created here: a new root key or identity
// would not verify the existing log. A missing root key then means it was
// erased after an earlier export (eventlog.EraseRootKey).
func (s *Store) logVerifierKeys() (*Secret, ed25519.PublicKey, error) {
	if _, err := os.Lstat(filepath.Join(s.dir, ItemLogState+".sealed")); err != nil {
		root, err := s.EnsureSecret(ItemLogRootKey, 32)
		if err != nil {
			return nil, nil, err
		}
		id, err := s.Identity()
		if err != nil {
			root.Zero()
			return nil, nil, err
		}
		defer clear(id)
		return root, append(ed25519.PublicKey(nil), id.Public().(ed25519.PublicKey)...), nil
	}
	root, err := s.Secret(ItemLogRootKey)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, fmt.Errorf("the event log's root key is not in the key store: it was erased after an earlier export, which is the verifier to use (a new key would not verify this log): %w", err)
	}
	if err != nil {
		return nil, nil, err
	}
	pub, err := s.IdentityPublic()
	if err != nil {
		root.Zero()
		return nil, nil, err
	}
	return root, pub, nil
}

func writeLogVerifier(w io.Writer, v *LogVerifier, passphrase []byte) error {
	rcpt, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return fmt.Errorf("export log verifier: %w", err)
	}
	rcpt.SetWorkFactor(scryptWorkFactor)
	pt := marshalLogVerifier(v)
	defer clear(pt)
	var out bytes.Buffer
	aw, err := age.Encrypt(&out, rcpt)
	if err != nil {
		return fmt.Errorf("export log verifier: %w", err)
	}
	if _, err := aw.Write(pt); err != nil {
		return fmt.Errorf("export log verifier: %w", err)
	}
	if err := aw.Close(); err != nil {
		return fmt.Errorf("export log verifier: %w", err)
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("export log verifier: write: %w", err)
	}
	return nil
}

// ReadLogVerifier decrypts and parses a log verifier file written by
// ExportLogVerifier. A wrong passphrase gives an error wrapping
// ErrWrongPassphrase; a damaged or foreign file one wrapping
// ErrBadVerifierFile. The caller should Zero the result when done.
func ReadLogVerifier(r io.Reader, passphrase []byte) (*LogVerifier, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxVerifierFile+1))
	if err != nil {
		return nil, fmt.Errorf("read log verifier: %w", err)
	}
	if len(data) > maxVerifierFile {
		return nil, fmt.Errorf("read log verifier: larger than %d bytes: %w", maxVerifierFile, ErrBadVerifierFile)
	}
	id, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, fmt.Errorf("read log verifier: %w", err)
	}
	id.SetMaxWorkFactor(maxScryptWorkFactor)
	ar, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("read log verifier: %w", ErrWrongPassphrase)
		}
		return nil, fmt.Errorf("read log verifier: %w: %v", ErrBadVerifierFile, err)
	}
	pt, err := io.ReadAll(io.LimitReader(ar, maxVerifierPlain+1))
	defer clear(pt)
	if err != nil {
		return nil, fmt.Errorf("read log verifier: %w: %v", ErrBadVerifierFile, err)
	}
	if len(pt) > maxVerifierPlain {
		return nil, fmt.Errorf("read log verifier: content larger than %d bytes: %w", maxVerifierPlain, ErrBadVerifierFile)
	}
	v, err := parseLogVerifier(pt)
	if err != nil {
		return nil, fmt.Errorf("read log verifier: %w: %v", ErrBadVerifierFile, err)
	}
	return v, nil
}

var verifierDeviceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$`)

func marshalLogVerifier(v *LogVerifier) []byte {
	enc := base64.StdEncoding
	var b bytes.Buffer
	b.Grow(256)
	b.WriteString(verifierMagic)
	b.WriteString("device: " + v.DeviceName + "\n")
	b.WriteString("device-public-key: " + enc.EncodeToString(v.DevicePublicKey) + "\n")
	k := make([]byte, enc.EncodedLen(v.RootKey.Len()))
	enc.Encode(k, v.RootKey.Bytes())
	b.WriteString("log-root-key: ")
	b.Write(k)
	clear(k)
	b.WriteString("\n")
	return b.Bytes()
}

// parseLogVerifier parses the plaintext format strictly. It does not keep
// references to pt.
func parseLogVerifier(pt []byte) (*LogVerifier, error) {
	rest, ok := bytes.CutPrefix(pt, []byte(verifierMagic))
	if !ok {
		return nil, errors.New("missing header line \"medguard log verifier v1\"")
	}
	var fields [3][]byte
	for i, key := range []string{"device", "device-public-key", "log-root-key"} {
		line, after, found := bytes.Cut(rest, []byte("\n"))
		if !found {
			return nil, fmt.Errorf("line %d: missing or unterminated %q", i+2, key)
		}
		val, ok := bytes.CutPrefix(line, []byte(key+": "))
		if !ok {
			return nil, fmt.Errorf("line %d: want %q", i+2, key)
		}
		fields[i], rest = val, after
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing data after log-root-key")
	}
	name := string(fields[0])
	if !verifierDeviceName.MatchString(name) {
		return nil, fmt.Errorf("device name %q: must match %s", name, verifierDeviceName)
	}
	enc := base64.StdEncoding.Strict()
	pub := make([]byte, enc.DecodedLen(len(fields[1])))
	n, err := enc.Decode(pub, fields[1])
	if err != nil || n != ed25519.PublicKeySize {
		return nil, fmt.Errorf("device-public-key: want base64 of %d bytes", ed25519.PublicKeySize)
	}
	key := make([]byte, enc.DecodedLen(len(fields[2])))
	n, err = enc.Decode(key, fields[2])
	if err != nil || n < minRootKey || n > maxRootKey {
		clear(key)
		return nil, fmt.Errorf("log-root-key: want base64 of %d to %d bytes", minRootKey, maxRootKey)
	}
	return &LogVerifier{
		DeviceName:      name,
		DevicePublicKey: ed25519.PublicKey(pub[:ed25519.PublicKeySize]),
		RootKey:         NewSecret(key[:n]),
	}, nil
}
