package eventlog

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/medguard/medguard/internal/keystore"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrKeyState marks a log whose key state is missing or does not fit the
// log: the log cannot be continued without breaking its chain.
var ErrKeyState = errors.New("event log key state missing or inconsistent")

// Open opens (or creates) the log in cfg.Dir and starts its writer. On
// reopening it checks the tail: a torn final record (a crash) is cut off
// and reported with a log.crash.detected event; a log that ends before the
// last record the key store knows to be durable (truncation or rollback
// of the directory) is reported with log.truncation.detected, and the log
// continues after the known head.
func Open(cfg Config) (*Log, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("open event log %s: %w", cfg.Dir, err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	l := &Log{
		cfg: cfg, slog: cfg.Logger, qsignal: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{}), lock: lock,
		changed: make(chan struct{}),
	}
	w, notes, err := openWriter(l)
	if err != nil {
		lock.Close()
		return nil, err
	}
	l.w = w
	l.segs = append([]segment(nil), w.segs...)
	l.last = w.next - 1
	w.persist = newPersister(l)
	go w.run()
	for _, ev := range notes {
		if _, err := l.Record(context.Background(), ev); err != nil {
			l.Close()
			return nil, fmt.Errorf("open event log %s: %w", cfg.Dir, err)
		}
	}
	return l, nil
}

// tail is what Open learns from the newest segments.
type tail struct {
	records        uint64 // records seen
	lastSeq        uint64
	lastEpoch      uint64
	lastMAC        [macSize]byte
	epochCount     uint64 // records of lastEpoch
	tree           merkle
	treeOK         bool
	damaged        int // lines that are not records
	torn           *tornTail
	lastSegRecords uint64 // complete records in the newest segment
	macBad         int    // records of the state's epoch or later whose MAC fails
	headMAC        *[macSize]byte
	ring           *keyring
	sc             *scratch
	headSeq        uint64
}

type tornTail struct {
	seg    string
	off    int64
	n      int
	sha256 string
}

func openWriter(l *Log) (*writer, []Event, error) {
	cfg := &l.cfg
	id, err := cfg.Keys.Identity()
	if err != nil {
		return nil, nil, fmt.Errorf("open event log: identity key: %w", err)
	}
	signer, err := newNoteSigner(Origin(cfg.DeviceName), id)
	if err != nil {
		return nil, nil, err
	}
	segs, err := listSegments(cfg.Dir)
	if err != nil {
		return nil, nil, err
	}
	st, stErr := LoadState(cfg.Keys)
	defer st.Zero()
	var ring *keyring
	if stErr == nil {
		ring = newKeyring(st.Key, st.Epoch)
		defer ring.zero()
	}
	t, err := scanTail(cfg.Dir, segs, id.Public().(ed25519.PublicKey), ring, st)
	if err != nil {
		return nil, nil, err
	}
	now := cfg.Clock().UTC()
	w := &writer{l: l, cfg: cfg, segs: segs, signer: signer, epochStart: now, lastCP: now, syncCh: make(chan *syncJob, 1),
		flood: newFlood(cfg.FloodBurst, cfg.FloodWindow)}
	n := len(w.segs)
	notes, err := w.repairTail(&t)
	if err != nil {
		return nil, nil, err
	}
	if len(w.segs) < n {
		// A segment was set aside: its lines are no longer leaves.
		if t, err = scanTail(cfg.Dir, w.segs, id.Public().(ed25519.PublicKey), ring, st); err != nil {
			return nil, nil, err
		}
	}
	more, err := w.resume(&t, st, stErr)
	if err != nil {
		return nil, nil, err
	}
	notes = append(notes, more...)
	w.mac = newMacer(w.key, w.epoch)
	if !w.rotate_ {
		s := w.segs[len(w.segs)-1]
		f, err := os.OpenFile(filepath.Join(cfg.Dir, s.name), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("open event log segment: %w", err)
		}
		w.f, w.curSize = f, s.size
	}
	notes = append(notes, Event{Code: CodeOpened, Category: CategoryLog, Severity: SeverityInfo,
		Message: fmt.Sprintf("security event log opened at record %d, key epoch %d", w.next, w.epoch),
		Fields:  map[string]string{"device": cfg.DeviceName, "epoch": strconv.FormatUint(w.epoch, 10)}})
	for i := range notes {
		notes[i].Actor, notes[i].Source = systemActor, logSrc
	}
	return w, notes, nil
}

// repairTail cuts a torn final record (a crash) and sets aside a newest
// segment without a single record, reporting both; damaged lines are
// reported and kept, and the log goes on in a new segment.
func (w *writer) repairTail(t *tail) ([]Event, error) {
	dir := w.cfg.Dir
	var notes []Event
	if t.torn != nil {
		if err := os.Truncate(filepath.Join(dir, t.torn.seg), t.torn.off); err != nil {
			return nil, fmt.Errorf("open event log: cut torn record of %s: %w", t.torn.seg, err)
		}
		w.segs[len(w.segs)-1].size = t.torn.off
		notes = append(notes, crashEvent(*t))
	}
	if t.damaged > 0 || t.macBad > 0 {
		w.rotate_ = true
		notes = append(notes, Event{Code: CodeTailDamaged, Category: CategoryLog, Severity: SeverityAlert,
			Message: fmt.Sprintf("the newest event log records hold %d lines that are not records and %d records of the current key epoch whose MAC does not verify", t.damaged, t.macBad),
			Cause:   "the log was modified or the storage is damaged",
			Action:  "run medguard log verify and compare with the SIEM's copy",
			Fields:  map[string]string{"segment": w.segs[len(w.segs)-1].name, "bad_mac": strconv.Itoa(t.macBad), "not_records": strconv.Itoa(t.damaged)}})
	}
	if len(w.segs) == 0 || t.lastSegRecords > 0 {
		return notes, nil
	}
	// The newest segment holds no record. Empty, it was begun just before
	// a crash: remove it. Otherwise keep its damaged bytes aside, as
	// evidence. Either way the log begins it again.
	s := w.segs[len(w.segs)-1]
	p := filepath.Join(dir, s.name)
	var err error
	if s.size == 0 {
		err = os.Remove(p)
	} else {
		err = os.Rename(p, p+".damaged")
	}
	if err != nil {
		return nil, fmt.Errorf("open event log: set aside segment %s: %w", s.name, err)
	}
	w.segs = w.segs[:len(w.segs)-1]
	w.rotate_ = true
	return notes, syncDir(dir)
}

// resume takes up the chain where the log and the sealed state say it
// ends, reporting a log that ends before the state's head.
func (w *writer) resume(t *tail, st *State, stErr error) ([]Event, error) {
	cfg := w.cfg
	switch {
	case errors.Is(stErr, keystore.ErrNotFound) && t.records == 0 && len(w.segs) == 0:
		root, err := cfg.Keys.EnsureSecret(keystore.ItemLogRootKey, macSize)
		if err != nil {
			return nil, fmt.Errorf("open event log: root key: %w", err)
		}
		w.key = append([]byte(nil), root.Bytes()...)
		root.Zero()
		w.next, w.rotate_ = 1, true
		if len(w.key) != macSize {
			// The sealed state holds 32-byte keys; a root key of another
			// length (the verifier file allows 16 to 64 bytes) is evolved
			// once before the first record, as a verifier derives it.
			k := deriveKey(w.key, 0, 1)
			clear(w.key)
			w.key, w.epoch = k, 1
		}
		// The first state is sealed before the first record is written: a
		// crash before the persister's first store must not leave records
		// without a state, which Open would refuse as ErrKeyState.
		if err := storeState(cfg.Keys, w.snapshot()); err != nil {
			return nil, fmt.Errorf("open event log %s: %w", cfg.Dir, err)
		}
		return nil, nil
	case stErr != nil:
		return nil, fmt.Errorf("open event log %s (records up to %d): %w: %w", cfg.Dir, t.lastSeq, ErrKeyState, stErr)
	case t.lastSeq >= st.Seq && t.treeOK:
		w.next, w.prev, w.tree = t.lastSeq+1, t.lastMAC, t.tree
		w.epoch = max(st.Epoch, t.lastEpoch)
		w.key = deriveKey(st.Key, st.Epoch, w.epoch)
		if w.epoch == t.lastEpoch {
			w.epochCount = t.epochCount
		}
		if t.headMAC != nil && !hmacEqual(t.headMAC[:], st.MAC) {
			return []Event{truncationEvent(*t, st, "replaced")}, nil
		}
		return nil, nil
	}
	kind := "truncated"
	if t.lastEpoch < st.Epoch {
		kind = "rolled back"
	}
	if !t.treeOK && t.lastSeq >= st.Seq {
		kind = "damaged"
	}
	w.next, w.tree, w.epoch = max(st.Seq, t.lastSeq)+1, st.tree.clone(), st.Epoch
	copy(w.prev[:], st.MAC)
	w.key = append([]byte(nil), st.Key...)
	w.rotate_, w.stateDirty = true, true
	return []Event{truncationEvent(*t, st, kind)}, nil
}

func hmacEqual(a, b []byte) bool { return string(a) == string(b) }

func crashEvent(t tail) Event {
	return Event{Code: CodeCrashDetected, Category: CategoryLog, Severity: SeverityWarning,
		Message: fmt.Sprintf("the last record of the event log was torn by a crash: %d bytes after record %d were cut off", t.torn.n, t.lastSeq),
		Cause:   "the device or the daemon stopped while writing (power loss, kill); the torn record was never acknowledged",
		Action:  "check why the device stopped; no acknowledged event was lost",
		Fields: map[string]string{"segment": t.torn.seg, "offset": strconv.FormatInt(t.torn.off, 10),
			"torn_bytes": strconv.Itoa(t.torn.n), "torn_sha256": t.torn.sha256, "last_seq": strconv.FormatUint(t.lastSeq, 10)}}
}

func truncationEvent(t tail, st *State, kind string) Event {
	return Event{Code: CodeTruncation, Category: CategoryLog, Severity: SeverityAlert,
		Message: fmt.Sprintf("the event log ends at record %d but record %d was durably written before (%s)", t.lastSeq, st.Seq, kind),
		Cause:   "records were removed from the log directory, or an older copy of it was restored",
		Action:  "treat the device as tampered with: compare the log with the SIEM's copy and investigate",
		Fields: map[string]string{"last_seq": strconv.FormatUint(t.lastSeq, 10), "expected_seq": strconv.FormatUint(st.Seq, 10),
			"kind": kind, "last_epoch": strconv.FormatUint(t.lastEpoch, 10), "expected_epoch": strconv.FormatUint(st.Epoch, 10)}}
}

// scanTail reads the newest segments back to the newest checkpoint record
// that carries a valid tree edge, and rebuilds the tree to the end.
// Records of the sealed state's epoch and later are MAC-checked on the
// way: the boot's check of the log's tail (ARCHITECTURE.md, boot step 2).
func scanTail(dir string, segs []segment, pub ed25519.PublicKey, ring *keyring, st *State) (tail, error) {
	var t tail
	for k := len(segs) - 1; k >= 0; k-- {
		t = tail{ring: ring, sc: newScratch()}
		if st != nil {
			t.headSeq = st.Seq
		}
		for i := k; i < len(segs); i++ {
			if err := scanSegment(dir, segs[i], i == len(segs)-1, pub, &t); err != nil {
				return t, err
			}
		}
		if t.treeOK || t.records == 0 && k == 0 {
			return t, nil
		}
	}
	return t, nil
}

func scanSegment(dir string, s segment, last bool, pub ed25519.PublicKey, t *tail) error {
	f, err := os.Open(filepath.Join(dir, s.name))
	if err != nil {
		return fmt.Errorf("open event log segment: %w", err)
	}
	defer f.Close()
	lr := newLineReader(f)
	for {
		line, off, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err == errTorn && last {
			sum := sha256.Sum256(line)
			t.torn = &tornTail{seg: s.name, off: off, n: int(lr.off - off), sha256: hex.EncodeToString(sum[:])}
			return nil
		}
		if err != nil && err != errTooLong && err != errTorn {
			return fmt.Errorf("read event log segment %s: %w", s.name, err)
		}
		var h lineHead
		if err != nil || !parseHead(line, &h) {
			t.damaged++
			if t.treeOK {
				t.tree.add(tlog.RecordHash(line))
			}
			continue
		}
		if !t.treeOK && h.seq == 1 && s.first == 1 {
			// The log's first record: the tree begins here, empty.
			t.tree, t.treeOK = merkle{}, true
		}
		if !t.treeOK && h.checkpoint {
			if m, ok := checkpointTree(line, pub); ok && m.n == h.seq-1 {
				t.tree, t.treeOK = m, true
			}
		}
		if t.treeOK {
			t.tree.add(tlog.RecordHash(line))
		}
		if h.epoch != t.lastEpoch {
			t.epochCount = 0
		}
		it := item{line: line}
		if it.evaluate(t.ring, t.sc); it.mac == 0 {
			t.macBad++
		}
		if h.seq == t.headSeq {
			m := h.mac
			t.headMAC = &m
		}
		t.records++
		if last {
			t.lastSegRecords++
		}
		t.lastSeq, t.lastEpoch, t.lastMAC = h.seq, h.epoch, h.mac
		t.epochCount++
	}
}

// checkpointTree returns the tree edge a checkpoint record carries, if its
// note verifies with the device key and the edge matches the root.
func checkpointTree(line []byte, pub ed25519.PublicKey) (merkle, bool) {
	r, err := ParseRecord(line)
	if err != nil {
		return merkle{}, false
	}
	c, err := ParseCheckpoint([]byte(r.Fields[fieldNote]), pub)
	if err != nil {
		return merkle{}, false
	}
	m, err := parseFrontierCheck(c.Size, r.Fields[fieldFront], c.Root)
	return m, err == nil
}
