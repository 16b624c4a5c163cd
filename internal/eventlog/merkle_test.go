package eventlog

import (
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// hashStore is an in-memory tlog.HashReader: the reference our streaming
// tree is checked against.
type hashStore []tlog.Hash

func (s hashStore) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = s[x]
	}
	return out, nil
}

func TestMerkleMatchesTlog(t *testing.T) {
	var store hashStore
	var m merkle
	for n := int64(0); n < 70; n++ {
		want, err := tlog.TreeHash(n, store)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.root(); got != want {
			t.Fatalf("root of %d leaves = %x, want %x", n, got, want)
		}
		fm, err := parseFrontier(m.n, m.frontier())
		if err != nil || fm.root() != want {
			t.Fatalf("frontier of %d leaves does not round-trip: %v", n, err)
		}
		// Inclusion proof ranges agree with tlog's proofs.
		for i := int64(0); i < n; i++ {
			p, err := tlog.ProveRecord(n, i, store)
			if err != nil {
				t.Fatal(err)
			}
			rs := proofRanges(0, uint64(n), uint64(i), nil)
			if len(rs) != len(p) {
				t.Fatalf("proof of %d in %d: %d ranges, tlog has %d hashes", i, n, len(rs), len(p))
			}
		}
		data := []byte(fmt.Sprintf("leaf %d", n))
		hs, err := tlog.StoredHashes(n, data, store)
		if err != nil {
			t.Fatal(err)
		}
		store = append(store, hs...)
		m.add(tlog.RecordHash(data))
	}
}

func TestProve(t *testing.T) {
	env, cp := multiSegmentLog(t)
	for _, seq := range []uint64{1, 2, 77, 300, 511} {
		p, err := Prove(env.logDir(), seq, cp, env.pub())
		if err != nil {
			t.Fatalf("prove %d: %v", seq, err)
		}
		if err := p.Check(); err != nil {
			t.Fatalf("proof of %d does not check: %v", seq, err)
		}
		// A changed line does not check.
		bad := *p
		bad.Line = bad.Line[:len(bad.Line)-3] + `0"}`
		if bad.Line != p.Line && bad.Check() == nil {
			t.Fatalf("proof of %d checks for a changed line", seq)
		}
	}
	// Without a given checkpoint, the newest one in the log is used.
	if p, err := Prove(env.logDir(), 5, nil, env.pub()); err != nil || p.Check() != nil {
		t.Fatalf("prove with the log's own checkpoint: %v", err)
	}
	if _, err := Prove(env.logDir(), 1<<40, cp, env.pub()); err == nil {
		t.Fatal("proof of a record beyond the checkpoint")
	}
}
