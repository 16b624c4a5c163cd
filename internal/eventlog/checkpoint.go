package eventlog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A checkpoint is a C2SP tlog-checkpoint signed note
// (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note):
//
//	medguard/DEVICE/eventlog
//	SIZE
//	BASE64(ROOT HASH)
//	medguard-epoch E
//
//	— medguard/DEVICE/eventlog BASE64(KEYHASH || ED25519 SIGNATURE)
//
// SIZE is the number of records the tree covers (sequence numbers 1 to
// SIZE); the extension line names the MAC key epoch of record SIZE, which
// tells a truncation within the current epoch from a rollback to an older
// copy. The device's identity key signs it.

// Checkpoint is a parsed, signature-checked checkpoint.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   tlog.Hash
	Epoch  uint64
	Text   []byte // the whole signed note
}

// Origin returns the checkpoint origin (and note key name) of a device.
func Origin(device string) string { return "medguard/" + device + "/eventlog" }

// ErrForgedCheckpoint marks a checkpoint whose signature does not verify
// with the device's key: forged, damaged or another device's. It is a
// security failure.
var ErrForgedCheckpoint = errors.New("checkpoint signature does not verify with the device key")

// formatCheckpoint returns the unsigned body.
func formatCheckpoint(origin string, size uint64, root tlog.Hash, epoch uint64) []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\nmedguard-epoch %d\n", origin, size, base64.StdEncoding.EncodeToString(root[:]), epoch)
}

// ParseCheckpointBody parses the body of a checkpoint note (the text
// before the signatures) strictly.
func ParseCheckpointBody(text []byte) (Checkpoint, error) {
	if len(text) > 4096 || !bytes.HasSuffix(text, []byte("\n")) {
		return Checkpoint{}, errors.New("checkpoint: body too long or not newline-terminated")
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) != 4 {
		return Checkpoint{}, fmt.Errorf("checkpoint: %d lines, want 4", len(lines))
	}
	var c Checkpoint
	c.Origin = lines[0]
	if c.Origin == "" || strings.ContainsAny(c.Origin, " +\t") {
		return Checkpoint{}, fmt.Errorf("checkpoint: bad origin %q", c.Origin)
	}
	size, n, ok := parseUint([]byte(lines[1]))
	if !ok || n != len(lines[1]) {
		return Checkpoint{}, fmt.Errorf("checkpoint: bad size %q", lines[1])
	}
	c.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != len(tlog.Hash{}) {
		return Checkpoint{}, fmt.Errorf("checkpoint: bad root hash %q", lines[2])
	}
	copy(c.Root[:], root)
	ep, ok := strings.CutPrefix(lines[3], "medguard-epoch ")
	e, n, ok2 := parseUint([]byte(ep))
	if !ok || !ok2 || n != len(ep) {
		return Checkpoint{}, fmt.Errorf("checkpoint: bad extension line %q", lines[3])
	}
	c.Epoch = e
	return c, nil
}

// ParseCheckpoint opens a signed checkpoint with the device's public key.
// A signature that is missing, wrong or made by another key gives an error
// wrapping ErrForgedCheckpoint; a malformed note another error.
func ParseCheckpoint(text []byte, devicePub ed25519.PublicKey) (Checkpoint, error) {
	if len(text) > 8192 {
		return Checkpoint{}, errors.New("checkpoint: note too long")
	}
	n, err := note.Open(text, anyNameVerifier{devicePub})
	if err != nil {
		var une *note.UnverifiedNoteError
		var ise *note.InvalidSignatureError
		if errors.As(err, &une) || errors.As(err, &ise) {
			signer := ""
			if une != nil && len(une.Note.UnverifiedSigs) > 0 {
				signer = une.Note.UnverifiedSigs[0].Name
			}
			return Checkpoint{}, fmt.Errorf("checkpoint (signed as %q): %w", signer, ErrForgedCheckpoint)
		}
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	c, err := ParseCheckpointBody([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if len(n.Sigs) == 0 || n.Sigs[0].Name != c.Origin {
		return Checkpoint{}, fmt.Errorf("checkpoint of %s signed by another name: %w", c.Origin, ErrForgedCheckpoint)
	}
	c.Text = append([]byte(nil), text...)
	return c, nil
}

// anyNameVerifier verifies signatures made by one Ed25519 key under any
// key name; note.Open still checks the key hash, which binds name and key.
type anyNameVerifier struct{ pub ed25519.PublicKey }

func (a anyNameVerifier) Verifier(name string, hash uint32) (note.Verifier, error) {
	if len(a.pub) != ed25519.PublicKeySize {
		return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
	}
	vk, err := note.NewEd25519VerifierKey(name, a.pub)
	if err != nil {
		return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
	}
	v, err := note.NewVerifier(vk)
	if err != nil || v.KeyHash() != hash {
		return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
	}
	return v, nil
}

// noteSigner signs notes with the device identity key.
type noteSigner struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
}

func newNoteSigner(name string, key ed25519.PrivateKey) (*noteSigner, error) {
	vk, err := note.NewEd25519VerifierKey(name, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("checkpoint signer %s: %w", name, err)
	}
	v, err := note.NewVerifier(vk)
	if err != nil {
		return nil, fmt.Errorf("checkpoint signer %s: %w", name, err)
	}
	return &noteSigner{name: name, hash: v.KeyHash(), key: key}, nil
}

func (s *noteSigner) Name() string                    { return s.name }
func (s *noteSigner) KeyHash() uint32                 { return s.hash }
func (s *noteSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

// signCheckpoint returns the signed note for a tree.
func (s *noteSigner) signCheckpoint(size uint64, root tlog.Hash, epoch uint64) ([]byte, error) {
	return note.Sign(&note.Note{Text: string(formatCheckpoint(s.name, size, root, epoch))}, s)
}

// ParseFrontierCheck rebuilds a tree edge and checks it against a root.
func parseFrontierCheck(size uint64, frontier string, root tlog.Hash) (merkle, error) {
	m, err := parseFrontier(size, frontier)
	if err != nil {
		return merkle{}, err
	}
	if m.root() != root {
		return merkle{}, errors.New("frontier does not match the checkpoint's root hash")
	}
	return m, nil
}
