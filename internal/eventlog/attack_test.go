package eventlog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// The attack tests of issue 3: each manipulates a closed log the way an
// attacker who is root on the device (but has no earlier epoch's key)
// could, and checks that verification finds it and names it correctly.

// attackLog writes a log of about 60 events in one segment, closes it and
// returns the environment and the newest checkpoint (the forwarder's copy).
func attackLog(t *testing.T, mod ...func(*Config)) (*testEnv, []byte) {
	t.Helper()
	env := newTestEnv(t)
	l := env.open(mod...)
	fill(t, l, 60)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cp := env.lastCheckpoint()
	if rep := env.verify(cp); !rep.OK || rep.MACVerified != rep.Records || rep.CheckpointsUnverified != 0 {
		t.Fatalf("untouched log does not verify: %+v", rep)
	}
	return env, cp
}

func wantDamage(t *testing.T, rep Report, kind Kind, seq uint64) {
	t.Helper()
	if rep.OK || rep.First == nil {
		t.Fatalf("damage not detected (want %s at %d): %+v", kind, seq, rep)
	}
	if rep.First.Kind != kind || rep.First.Seq != seq {
		t.Fatalf("first damage = %s at %d (%s), want %s at %d; all: %+v", rep.First.Kind, rep.First.Seq, rep.First.Detail, kind, seq, rep.Damage)
	}
}

func TestAttackFlipByteInEachField(t *testing.T) {
	const target = 30
	for _, field := range []string{"seq", "time", "boot", "code", "cat", "sev", "actor", "src", "msg", "cause", "action", "fields", "epoch", "prev", "mac"} {
		t.Run(field, func(t *testing.T) {
			env, cp := attackLog(t)
			seg := env.segPaths()[0]
			lines := readLines(t, seg)
			i := indexOf(t, lines, target)
			key := []byte(`"` + field + `":`)
			p := bytes.Index(lines[i], key)
			if p < 0 {
				t.Fatalf("field %s not in %s", field, lines[i])
			}
			v := p + len(key)
			if lines[i][v] == '"' || lines[i][v] == '{' {
				v++ // flip inside the value, not its quote
			}
			if lines[i][v] == '"' {
				v++
			}
			lines[i][v] ^= 0x01
			writeLines(t, seg, lines)
			wantDamage(t, env.verify(cp), KindModified, target)
		})
	}
}

func TestAttackDeleteOneInTheMiddle(t *testing.T) {
	env, cp := attackLog(t)
	seg := env.segPaths()[0]
	lines := readLines(t, seg)
	i := indexOf(t, lines, 25)
	writeLines(t, seg, append(lines[:i:i], lines[i+1:]...))
	wantDamage(t, env.verify(cp), KindDeleted, 25)
}

func TestAttackDeleteLastN(t *testing.T) {
	// Epochs long enough that the cut stays within the checkpoint's epoch.
	env, cp := attackLog(t, func(c *Config) { c.EpochEntries = 1000 })
	seg := env.segPaths()[0]
	lines := readLines(t, seg)
	n := len(lines)
	writeLines(t, seg, lines[:n-4])
	wantDamage(t, env.verify(cp), KindTruncated, uint64(n-3))
	// Without an outside checkpoint, the device's sealed state is the
	// evidence (on-device verification).
	st, err := LoadState(env.keys)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyDir(context.Background(), env.logDir(), VerifyOptions{RootKey: env.rootKey(), DevicePublicKey: env.pub(), Head: st})
	if err != nil {
		t.Fatal(err)
	}
	wantDamage(t, rep, KindTruncated, uint64(n-3))
	// Without any evidence the cut cannot be seen, and the report says so.
	rep, err = VerifyDir(context.Background(), env.logDir(), VerifyOptions{RootKey: env.rootKey(), DevicePublicKey: env.pub()})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || len(rep.Limits) == 0 || rep.Evidence != "none" {
		t.Fatalf("without evidence: %+v", rep)
	}
}

func TestAttackTruncateMidRecordIsACrash(t *testing.T) {
	env, cp := attackLog(t, func(c *Config) { c.EpochEntries = 1000 })
	seg := env.segPaths()[0]
	b, _ := os.ReadFile(seg)
	last := bytes.LastIndexByte(b[:len(b)-1], '\n')
	// Cut the final record (the closing checkpoint, which no outside
	// checkpoint covers) in its middle: the trace of a crash.
	if err := os.WriteFile(seg, b[:last+1+(len(b)-last)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	rep := env.verify(cp)
	if !rep.OK || rep.Crash == nil || rep.Crash.Bytes == 0 {
		t.Fatalf("torn final record not reported as a crash: %+v", rep)
	}
	// A torn record the checkpoint covers was acknowledged: that is
	// truncation, not a crash.
	lines := readLines(t, seg)
	torn := lines[len(lines)-2]
	lines = append(lines[:len(lines)-2], torn[:len(torn)/2])
	writeLines(t, seg, lines)
	var h lineHead
	parseHead(bytes.TrimSuffix(readLines(t, seg)[len(lines)-2], []byte("\n")), &h)
	wantDamage(t, env.verify(cp), KindTruncated, h.seq+1)
}

func TestAttackTruncateAtRecordBoundary(t *testing.T) {
	env, cp := attackLog(t, func(c *Config) { c.EpochEntries = 1000 })
	seg := env.segPaths()[0]
	lines := readLines(t, seg)
	writeLines(t, seg, lines[:40])
	wantDamage(t, env.verify(cp), KindTruncated, 41)
}

func TestAttackSwapTwo(t *testing.T) {
	env, cp := attackLog(t)
	seg := env.segPaths()[0]
	lines := readLines(t, seg)
	i := indexOf(t, lines, 20)
	lines[i], lines[i+1] = lines[i+1], lines[i]
	writeLines(t, seg, lines)
	wantDamage(t, env.verify(cp), KindReordered, 20)
}

func TestAttackDuplicateOne(t *testing.T) {
	env, cp := attackLog(t)
	seg := env.segPaths()[0]
	lines := readLines(t, seg)
	i := indexOf(t, lines, 20)
	lines = append(lines[:i+1], append([][]byte{lines[i]}, lines[i+1:]...)...)
	writeLines(t, seg, lines)
	wantDamage(t, env.verify(cp), KindInserted, 20)
}

// forge re-MACs records from index i on with a key the attacker made up,
// adding shift to the sequence numbers of those from index renumber on, and
// recomputing every prev link: a chain that looks whole, made without the
// device's key.
func forge(t *testing.T, lines [][]byte, i, renumber int, shift int64, prev []byte) [][]byte {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	for ; i < len(lines); i++ {
		r, err := ParseRecord(lines[i])
		if err != nil {
			t.Fatal(err)
		}
		if i >= renumber {
			r.Seq = uint64(int64(r.Seq) + shift)
		}
		r.Prev = prev
		body := appendBody(nil, &r.Event, r.Epoch, r.Prev)
		m := hmac.New(sha256.New, key)
		m.Write(body)
		mac := m.Sum(nil)
		lines[i] = append(appendMAC(body, mac), '\n')
		prev = mac
	}
	return lines
}

func TestAttackInsertWithRecomputedChain(t *testing.T) {
	env, cp := attackLog(t)
	seg := env.segPaths()[0]
	lines := readLines(t, seg)
	i := indexOf(t, lines, 20)
	prevRec, _ := ParseRecord(lines[i-1])
	fake, _ := ParseRecord(lines[i])
	fake.Message = "admin logged in" // the attacker's alibi
	fake.line = nil
	lines = append(lines[:i:i], append([][]byte{append(fake.Line(), '\n')}, lines[i:]...)...)
	writeLines(t, seg, forge(t, lines, i, i+1, 1, prevRec.MAC))
	wantDamage(t, env.verify(cp), KindInserted, 20)
}

func TestAttackReplaceWholeTail(t *testing.T) {
	env, cp := attackLog(t)
	seg := env.segPaths()[0]
	lines := readLines(t, seg)
	i := indexOf(t, lines, 30)
	prevRec, _ := ParseRecord(lines[i-1])
	for j := i; j < len(lines); j++ {
		r, _ := ParseRecord(lines[j])
		r.Message, r.Actor, r.line = "nothing happened", "system", nil
		lines[j] = append(r.Line(), '\n')
	}
	writeLines(t, seg, forge(t, lines, i, i, 0, prevRec.MAC))
	wantDamage(t, env.verify(cp), KindModified, 30)
}

func multiSegmentLog(t *testing.T) (*testEnv, []byte) {
	t.Helper()
	env := newTestEnv(t)
	l := env.open(func(c *Config) { c.MaxBytes, c.SegmentBytes, c.EpochEntries = 4<<20, 64<<10, 1<<20 })
	fill(t, l, 600)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(env.segPaths()); n < 3 {
		t.Fatalf("%d segments, want at least 3", n)
	}
	cp := env.lastCheckpoint()
	if rep := env.verify(cp); !rep.OK {
		t.Fatalf("untouched log does not verify: %+v", rep)
	}
	return env, cp
}

func firstSeqOf(t *testing.T, path string) uint64 {
	var h lineHead
	if !parseHead(bytes.TrimSuffix(readLines(t, path)[0], []byte("\n")), &h) {
		t.Fatal("bad first line")
	}
	return h.seq
}

func TestAttackDeleteWholeSegment(t *testing.T) {
	for _, which := range []string{"first", "middle", "last"} {
		t.Run(which, func(t *testing.T) {
			env, cp := multiSegmentLog(t)
			segs := env.segPaths()
			k := map[string]int{"first": 0, "middle": 1, "last": len(segs) - 1}[which]
			first := firstSeqOf(t, segs[k])
			if err := os.Remove(segs[k]); err != nil {
				t.Fatal(err)
			}
			kind := KindDeleted
			if which == "last" {
				kind = KindTruncated
			}
			wantDamage(t, env.verify(cp), kind, first)
		})
	}
}

func TestAttackRestoreOlderCopy(t *testing.T) {
	env := newTestEnv(t)
	l := env.open()
	fill(t, l, 30)
	l.Close()
	old := filepath.Join(t.TempDir(), "old")
	if out, err := exec.Command("cp", "-a", env.logDir(), old).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	oldRep := env.verify(nil)
	l = env.open()
	fill(t, l, 30) // several key epochs later
	l.Close()
	cp := env.lastCheckpoint()
	os.RemoveAll(env.logDir())
	if err := os.Rename(old, env.logDir()); err != nil {
		t.Fatal(err)
	}
	wantDamage(t, env.verify(cp), KindRolledBack, oldRep.LastSeq+1)
	st, err := LoadState(env.keys)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyDir(context.Background(), env.logDir(), VerifyOptions{RootKey: env.rootKey(), DevicePublicKey: env.pub(), Head: st})
	if err != nil {
		t.Fatal(err)
	}
	wantDamage(t, rep, KindRolledBack, oldRep.LastSeq+1)

	// The daemon, started on the restored copy, says so in the log and
	// goes on after the true head; the gap stays visible.
	l = env.open()
	fill(t, l, 2)
	recs := mustRead(t, l, 1)
	l.Close()
	found := false
	for _, r := range recs {
		if r.Code == CodeTruncation && r.Fields["kind"] == "rolled back" {
			found = true
		}
	}
	if !found {
		t.Fatal("reopening a rolled-back log recorded no log.truncation.detected event")
	}
	wantDamage(t, env.verify(cp), KindDeleted, oldRep.LastSeq+1)
}

func TestAttackWrongKey(t *testing.T) {
	env, cp := attackLog(t)
	wrong := make([]byte, 32)
	rand.Read(wrong)
	rep, err := VerifyDir(context.Background(), env.logDir(), VerifyOptions{RootKey: wrong, DevicePublicKey: env.pub(), Checkpoint: cp})
	if err != nil {
		t.Fatal(err)
	}
	wantDamage(t, rep, KindWrongKey, 1)
	if len(rep.Damage) != 1 {
		t.Fatalf("wrong key gives %d findings, want exactly one: %+v", len(rep.Damage), rep.Damage)
	}
	// A key that differs in one bit is just as wrong.
	k := env.rootKey()
	k[0] ^= 1
	rep, _ = VerifyDir(context.Background(), env.logDir(), VerifyOptions{RootKey: k, DevicePublicKey: env.pub()})
	wantDamage(t, rep, KindWrongKey, 1)
}

func TestAttackForgedCheckpoint(t *testing.T) {
	env, cp := attackLog(t)
	// Claim a larger log under the genuine signature.
	lines := bytes.SplitN(cp, []byte("\n"), 3)
	size, _ := strconv.Atoi(string(lines[1]))
	forged := bytes.Join([][]byte{lines[0], []byte(strconv.Itoa(size + 100)), lines[2]}, []byte("\n"))
	wantDamage(t, env.verify(forged), KindForgedCheckpoint, uint64(size+100))

	// Sign with a key of the attacker's own, under the device's name.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := newNoteSigner(Origin("monitor-7"), priv)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := note.Open(cp, anyNameVerifier{env.pub()})
	own, err := note.Sign(&note.Note{Text: n.Text}, s)
	if err != nil {
		t.Fatal(err)
	}
	wantDamage(t, env.verify(own), KindForgedCheckpoint, uint64(size))

	// A checkpoint record inside the log, re-signed by the attacker: its
	// record MAC no longer verifies, so it is a modification.
	seg := env.segPaths()[0]
	recLines := readLines(t, seg)
	i := indexOf(t, recLines, 17)
	r, err := ParseRecord(recLines[i])
	if err != nil || r.Code != CodeCheckpoint {
		t.Fatalf("record 17 is not a checkpoint: %v %s", err, r.Code)
	}
	r.Fields[fieldNote], r.line = string(own), nil
	recLines[i] = append(r.Line(), '\n')
	writeLines(t, seg, recLines)
	rep := env.verify(cp)
	wantDamage(t, rep, KindModified, 17)
	if rep.CheckpointsUnverified == 0 { // it, and the later ones whose tree holds it
		t.Fatalf("the re-signed checkpoint record is not counted as unverified: %+v", rep)
	}
}

func TestAttackCheckpointOfAnotherDevice(t *testing.T) {
	env, _ := attackLog(t)
	other, _ := attackLog(t)
	wantDamage(t, env.verify(other.lastCheckpoint()), KindForgedCheckpoint, claimedSize(other.lastCheckpoint()))
}

func TestVerifyParallelMatchesSequential(t *testing.T) {
	env, cp := multiSegmentLog(t)
	for _, w := range []int{1, 2, 7} {
		rep, err := VerifyDir(context.Background(), env.logDir(), VerifyOptions{RootKey: env.rootKey(), DevicePublicKey: env.pub(), Checkpoint: cp, Workers: w})
		if err != nil || !rep.OK || rep.MACVerified != rep.Records || rep.Checkpoints == 0 {
			t.Fatalf("workers %d: %v %+v", w, err, rep)
		}
	}
	// The stream verifier (forwarded lines) agrees.
	v := NewStreamVerifier(env.rootKey(), env.pub())
	for _, p := range env.segPaths() {
		for _, l := range readLines(t, p) {
			v.AddLine(bytes.TrimSuffix(l, []byte("\n")))
		}
	}
	if rep := v.Finish(); !rep.OK || rep.Checkpoints == 0 {
		t.Fatalf("stream verifier: %+v", rep)
	}
}

// A record claiming an epoch far beyond the others, with a MAC made by
// something other than the epoch key (here a plain SHA-256), is forged.
func TestAttackHugeEpoch(t *testing.T) {
	env, cp := attackLog(t)
	seg := env.segPaths()[0]
	lines := readLines(t, seg)
	i := indexOf(t, lines, 30)
	r, _ := ParseRecord(lines[i])
	r.Epoch, r.line = 1<<64-1, nil
	body := appendBody(nil, &r.Event, r.Epoch, r.Prev)
	sum := sha256.Sum256(append([]byte{0}, body...))
	lines[i] = append(appendMAC(body, sum[:]), '\n')
	writeLines(t, seg, lines)
	wantDamage(t, env.verify(cp), KindModified, 30)
}

// Cutting off the newest records across key epochs leaves exactly the
// files of an older copy: named rolled-back, at the first missing record.
func TestAttackDeleteLastNAcrossEpochs(t *testing.T) {
	env, cp := attackLog(t) // 8 records per epoch
	seg := env.segPaths()[0]
	lines := readLines(t, seg)
	n := len(lines)
	writeLines(t, seg, lines[:n-20])
	rep := env.verify(cp)
	wantDamage(t, rep, KindRolledBack, uint64(n-19))
	if !strings.Contains(rep.First.Detail, "cut off") {
		t.Fatalf("detail does not say the tail may have been cut off: %s", rep.First.Detail)
	}
}
