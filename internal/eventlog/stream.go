package eventlog

import (
	"crypto/ed25519"
	"errors"
	"slices"
)

// StreamVerifier verifies records as they arrive, for example lines
// received from a forwarder: MACs, chain, gaps, order and the signed
// checkpoints among them. The stream may begin at any record; Finish
// reports. It is not safe for concurrent use.
type StreamVerifier struct {
	ring *keyring
	sc   *scratch
	c    classifier
	done bool

	cpEvidence *Checkpoint
}

// NewStreamVerifier returns a verifier with the log's root key (from the
// exported verifier key) and the device's public identity key.
func NewStreamVerifier(rootKey []byte, devicePub ed25519.PublicKey) *StreamVerifier {
	return &StreamVerifier{ring: newKeyring(rootKey, 0), sc: newScratch(), c: classifier{pub: devicePub}}
}

// Add adds the next record of the stream. It returns an error only when
// called after Finish; damage goes into the report.
func (v *StreamVerifier) Add(r Record) error {
	if v.done {
		return errors.New("stream verifier: Add after Finish")
	}
	it := &item{line: slices.Clone(r.Line())}
	it.evaluate(v.ring, v.sc)
	v.c.push(it)
	return nil
}

// AddLine adds a received line (a record's stored bytes).
func (v *StreamVerifier) AddLine(line []byte) error {
	if v.done {
		return errors.New("stream verifier: Add after Finish")
	}
	it := &item{line: slices.Clone(line)}
	if len(it.line) > MaxLineBytes {
		it.line = it.line[:MaxLineBytes]
	}
	it.evaluate(v.ring, v.sc)
	v.c.push(it)
	return nil
}

// SetCheckpoint gives the verifier a checkpoint from outside the stream
// (for example the newest one the SIEM received): records it covers must
// all be in the stream.
func (v *StreamVerifier) SetCheckpoint(cp Checkpoint) {
	v.c.want = cp.Size
	v.cpEvidence = &cp
}

// Finish ends the stream and returns the report.
func (v *StreamVerifier) Finish() Report {
	v.done = true
	rep := v.c.finish(evidence{cp: v.cpEvidence})
	v.ring.zero()
	return rep
}
