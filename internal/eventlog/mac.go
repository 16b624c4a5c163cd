package eventlog

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// Key evolution (docs/eventlog.md, "Keys"). The key of epoch 0 is the root
// key kept in the key store; the key of epoch e+1 is
//
//	K(e+1) = HMAC-SHA256(K(e), "medguard eventlog v1 evolve" || uint64be(e+1))
//
// The writer holds only the current epoch's key and erases the previous
// one when it evolves, so that whoever takes the device later cannot
// compute the keys of earlier epochs (forward security). A verifier with
// the root key derives every epoch's key.
const evolveLabel = "medguard eventlog v1 evolve"

// evolve returns the key of epoch next from the key of epoch next-1.
func evolve(key []byte, next uint64) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(evolveLabel))
	m.Write(binary.BigEndian.AppendUint64(nil, next))
	return m.Sum(nil)
}

// deriveKey returns the key of epoch to from the key of epoch from ≤ to.
func deriveKey(key []byte, from, to uint64) []byte {
	k := append([]byte(nil), key...)
	for e := from; e < to; e++ {
		n := evolve(k, e+1)
		clear(k)
		k = n
	}
	return k
}

// macer computes record MACs under one epoch key, without allocating.
type macer struct {
	epoch uint64
	h     hash.Hash
	sum   [macSize]byte
}

func newMacer(key []byte, epoch uint64) *macer {
	return &macer{epoch: epoch, h: hmac.New(sha256.New, key)}
}

// mac returns the MAC of body; the slice is valid until the next call.
func (m *macer) mac(body []byte) []byte {
	m.h.Reset()
	m.h.Write(body)
	return m.h.Sum(m.sum[:0])
}

// check reports, in constant time, whether mac is body's MAC.
func (m *macer) check(body []byte, mac []byte) bool {
	return hmac.Equal(m.mac(body), mac)
}
