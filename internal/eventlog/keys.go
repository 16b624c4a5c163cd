package eventlog

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/medguard/medguard/internal/keystore"
	"golang.org/x/mod/sumdb/tlog"
)

// Keys is the part of the key store the log uses. *keystore.Store
// implements it.
//
// Identity returns the device's Ed25519 key, which signs checkpoints.
// The root MAC key (epoch 0) is the item keystore.ItemLogRootKey; the log
// keeps its evolving state — the current epoch's key and the last record
// it knows to be durable — in the item ItemLogState, replaced at every
// epoch change and checkpoint.
type Keys interface {
	Identity() (ed25519.PrivateKey, error)
	Secret(name string) (*keystore.Secret, error)
	PutSecret(name string, v *keystore.Secret) error
	EnsureSecret(name string, size int) (*keystore.Secret, error)
}

// SecretDeleter is implemented by a key store that can erase an item. The
// log uses it to erase the root key once the verifier key was exported
// (EraseRootKey).
type SecretDeleter interface {
	DeleteSecret(name string) error
}

// ItemLogState is the key store item holding the log's evolving state.
const ItemLogState = "log-state"

// State is the log's evolving secret state: the current epoch and its key,
// and the head (sequence number and MAC) of the last record known to be
// durable, with the Merkle tree edge at that head. The device keeps it
// sealed in the key store; it is the on-device evidence against
// truncation and rollback of the log directory.
type State struct {
	Epoch uint64
	Key   []byte // the key of Epoch; erased by Zero
	Seq   uint64
	MAC   []byte
	tree  merkle
}

const stateMagic = "MGLS1"

// marshal encodes s: magic, epoch, key, seq, mac, tree size, edge hashes.
func (s *State) marshal() []byte {
	b := append([]byte(stateMagic), 0)
	b = binary.BigEndian.AppendUint64(b, s.Epoch)
	b = append(b, s.Key...)
	b = binary.BigEndian.AppendUint64(b, s.Seq)
	b = append(b, padMAC(s.MAC)...)
	b = binary.BigEndian.AppendUint64(b, s.tree.n)
	for _, h := range s.tree.stack {
		b = append(b, h[:]...)
	}
	return b
}

func unmarshalState(b []byte) (*State, error) {
	const fixed = len(stateMagic) + 1 + 8 + macSize + 8 + macSize + 8
	if len(b) < fixed || string(b[:len(stateMagic)]) != stateMagic {
		return nil, errors.New("log state: unknown format")
	}
	b = b[len(stateMagic)+1:]
	s := &State{Epoch: binary.BigEndian.Uint64(b)}
	s.Key = append([]byte(nil), b[8:8+macSize]...)
	b = b[8+macSize:]
	s.Seq = binary.BigEndian.Uint64(b)
	s.MAC = append([]byte(nil), b[8:8+macSize]...)
	b = b[8+macSize:]
	s.tree.n = binary.BigEndian.Uint64(b)
	b = b[8:]
	if len(b)%32 != 0 || len(b)/32 != popcount(s.tree.n) {
		return nil, errors.New("log state: tree edge does not match its size")
	}
	for ; len(b) > 0; b = b[32:] {
		var h tlog.Hash
		copy(h[:], b)
		s.tree.stack = append(s.tree.stack, h)
	}
	return s, nil
}

// Zero erases the key.
func (s *State) Zero() {
	if s != nil {
		clear(s.Key)
	}
}

func popcount(n uint64) int {
	c := 0
	for ; n > 0; n >>= 1 {
		c += int(n & 1)
	}
	return c
}

func padMAC(m []byte) []byte {
	if len(m) == macSize {
		return m
	}
	return make([]byte, macSize)
}

// LoadState reads the log's state from the key store (for on-device
// verification). It returns an error wrapping keystore.ErrNotFound when the
// log was never opened with these keys.
func LoadState(k Keys) (*State, error) {
	sec, err := k.Secret(ItemLogState)
	if err != nil {
		return nil, fmt.Errorf("load event log state: %w", err)
	}
	defer sec.Zero()
	s, err := unmarshalState(sec.Bytes())
	if err != nil {
		return nil, fmt.Errorf("load event log state: %w", err)
	}
	return s, nil
}

func storeState(k Keys, s *State) error {
	if err := k.PutSecret(ItemLogState, keystore.NewSecret(s.marshal())); err != nil {
		return fmt.Errorf("store event log state: %w", err)
	}
	return nil
}
