package eventlog

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"

	"github.com/medguard/medguard/internal/keystore"

	"errors"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTornRecordOnReopenIsReportedAsCrash(t *testing.T) {
	env := newTestEnv(t)
	l := env.open()
	fill(t, l, 10)
	l.Close()
	segs := env.segPaths()
	f, err := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":99,"time":"2026-12-03T10:0`) // a write cut by power loss
	f.Close()
	l = env.open()
	recs := mustRead(t, l, 1)
	l.Close()
	var crash *Record
	for i := range recs {
		if recs[i].Code == CodeCrashDetected {
			crash = &recs[i]
		}
	}
	if crash == nil || crash.Fields["torn_bytes"] != "33" || crash.Severity != SeverityWarning {
		t.Fatalf("torn record not reported as a crash event: %+v", crash)
	}
	if rep := env.verify(nil); !rep.OK || rep.Crash != nil {
		t.Fatalf("after recovery the log should verify without a torn tail: %+v", rep)
	}
}

func TestFloodCoalescedWithExactCounts(t *testing.T) {
	env := newTestEnv(t)
	l := env.open(func(c *Config) { c.FloodBurst, c.FloodWindow = 10, time.Second })
	const flooders, each = 20, 20
	var wg sync.WaitGroup
	var acked atomic.Int64
	for g := range flooders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := l.Record(context.Background(), Event{Code: "auth.login.failed", Category: CategoryAuth,
					Severity: SeverityWarning, Actor: "admin", Source: "10.6.6.6:4444", Message: "login failed"}); err != nil {
					t.Error(err)
					return
				}
				acked.Add(1)
			}
			_ = g
		}()
	}
	// Another event during the flood is recorded on its own, not hidden.
	seq, err := l.Record(context.Background(), Event{Code: "config.changed", Category: CategoryConfig, Severity: SeverityNotice, Actor: "nurse", Message: "alarm limits changed"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
		default:
			env.clock.Add(300 * time.Millisecond) // windows end; summaries are written
			time.Sleep(5 * time.Millisecond)
			continue
		}
		break
	}
	recs := mustRead(t, l, 1)
	l.Close()
	var individual, summaries int
	var counted uint64
	sawOther := false
	for _, r := range recs {
		switch {
		case r.Seq == seq:
			sawOther = r.Code == "config.changed"
		case r.Code == "auth.login.failed" && r.Fields["coalesced"] == "":
			individual++
		case r.Code == "auth.login.failed":
			n, err := strconv.ParseUint(r.Fields["coalesced"], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			counted += n
			summaries++
		}
	}
	if got := uint64(individual) + counted; got != flooders*each || acked.Load() != flooders*each {
		t.Fatalf("individual %d + coalesced %d = %d, want exactly %d", individual, counted, got, flooders*each)
	}
	if !sawOther {
		t.Fatal("an event recorded during the flood is missing")
	}
	if individual+summaries > flooders*each/5 {
		t.Fatalf("flood not coalesced: %d records for %d events", individual+summaries, flooders*each)
	}
	t.Logf("%d events stored as %d individual records and %d summaries", flooders*each, individual, summaries)
}

func TestCapacityWarningRemovalAndVerification(t *testing.T) {
	env := newTestEnv(t)
	var mu sync.Mutex
	var failures []error
	l := env.open(func(c *Config) {
		c.MaxBytes, c.SegmentBytes, c.EpochEntries = 1<<20, 64<<10, 1<<20
		c.OnFailure = func(err error) { mu.Lock(); failures = append(failures, err); mu.Unlock() }
	})
	told := func() bool { mu.Lock(); defer mu.Unlock(); return len(failures) > 0 }
	// Fill until the 80 % notification: it reached OnFailure and is in the
	// log, before anything was removed.
	for i := 0; !told(); i++ {
		if i > 100 {
			t.Fatal("no 80 % notification after 16,000 records")
		}
		fillParallel(t, l, 160)
	}
	mu.Lock()
	if !errors.Is(failures[0], ErrCapacity) {
		t.Fatalf("the 80 %% notification: %v", failures)
	}
	mu.Unlock()
	has := func(recs []Record, code string) bool {
		return slices.ContainsFunc(recs, func(r Record) bool { return r.Code == code })
	}
	if recs := mustRead(t, l, 1); !has(recs, CodeCapacityWarning) || has(recs, CodeSegmentsRemoved) {
		t.Fatalf("at 80 %%: warning in the log %v, segments already removed %v", has(recs, CodeCapacityWarning), has(recs, CodeSegmentsRemoved))
	}
	fillParallel(t, l, 4000) // well beyond the limit
	recs := mustRead(t, l, 1)
	l.Close()
	if !has(recs, CodeSegmentsRemoved) {
		t.Fatal("no log.segments.removed record beyond the limit")
	}
	var total int64
	segs, _ := listSegments(env.logDir())
	for _, s := range segs {
		total += s.size
	}
	if total > 1<<20 {
		t.Fatalf("log uses %d bytes, limit %d", total, 1<<20)
	}
	// What remains verifies: it begins where the removal says, anchored by
	// its first segment's checkpoint.
	rep := env.verify(env.lastCheckpoint())
	if !rep.OK || rep.FirstSeq == 1 || rep.Checkpoints == 0 {
		t.Fatalf("log after removal: %+v", rep)
	}
	// Removing one more segment than the policy did is caught.
	os.Remove(env.segPaths()[0])
	wantDamage(t, env.verify(nil), KindDeleted, rep.FirstSeq)
}

func TestCapacityStopPolicy(t *testing.T) {
	env := newTestEnv(t)
	var full atomic.Bool
	l := env.open(func(c *Config) {
		c.MaxBytes, c.SegmentBytes, c.Policy = 256<<10, 64<<10, PolicyStop
		c.OnFailure = func(err error) {
			if errors.Is(err, ErrFull) {
				full.Store(true)
			}
		}
	})
	defer l.Close()
	var err error
	for i := 0; i < 5000 && err == nil; i++ {
		_, err = l.Record(context.Background(), testEvent(i))
	}
	if !errors.Is(err, ErrFull) || !full.Load() {
		t.Fatalf("stop policy: err %v, OnFailure told %v", err, full.Load())
	}
	recs := mustRead(t, l, 1)
	if recs[len(recs)-1].Code != CodeFull && recs[len(recs)-2].Code != CodeFull {
		t.Fatalf("no log.full event at the end; last is %s", recs[len(recs)-1].Code)
	}
}

func TestQuery(t *testing.T) {
	env := newTestEnv(t)
	l := env.open()
	defer l.Close()
	for i := range 30 {
		e := testEvent(i)
		if i%3 == 0 {
			e.Category, e.Code, e.Severity, e.Actor = CategoryNetwork, "network.port.scan", SeverityError, "scanner"
		}
		if _, err := l.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		env.clock.Add(time.Second)
	}
	sev := SeverityError
	var got []Record
	q := Query{Categories: []Category{CategoryNetwork}, MaxSeverity: &sev, Limit: 4}
	for pages := 0; ; pages++ {
		p, err := l.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Records...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(got) != 10 {
		t.Fatalf("got %d network events, want 10", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq >= got[i-1].Seq || got[i].Category != CategoryNetwork {
			t.Fatalf("not newest first or wrong category: %d after %d", got[i].Seq, got[i-1].Seq)
		}
	}
	// Time range and actor.
	start := time.Date(2026, 12, 3, 10, 0, 10, 0, time.UTC)
	p, err := l.Query(Query{Since: start, Until: start.Add(5 * time.Second), Actor: "scanner"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Records {
		if r.Time.Before(start) || r.Time.After(start.Add(5*time.Second)) || r.Actor != "scanner" {
			t.Fatalf("record %d outside the query", r.Seq)
		}
	}
	if len(p.Records) != 2 {
		t.Fatalf("time+actor query gave %d records, want 2", len(p.Records))
	}
	// Sequence range.
	p, _ = l.Query(Query{FromSeq: 5, ToSeq: 9})
	if len(p.Records) != 5 || p.Records[0].Seq != 9 || p.Records[4].Seq != 5 {
		t.Fatalf("seq range: %d records", len(p.Records))
	}
	if _, err := l.Query(Query{Cursor: "x"}); err == nil {
		t.Fatal("bad cursor accepted")
	}
}

func TestRecordRejectsBadEvents(t *testing.T) {
	env := newTestEnv(t)
	l := env.open()
	defer l.Close()
	before := l.Last()
	for _, e := range []Event{
		{Code: "", Category: CategoryAuth, Message: "x"},
		{Code: "Auth Failed", Category: CategoryAuth, Message: "x"},
		{Code: "auth.x", Category: "nonsense", Message: "x"},
		{Code: "auth.x", Category: CategoryAuth, Severity: 9, Message: "x"},
		{Code: "auth.x", Category: CategoryAuth},
	} {
		if _, err := l.Record(context.Background(), e); err == nil {
			t.Errorf("event %+v accepted", e)
		}
	}
	if l.Last() != before {
		t.Fatal("a rejected event changed the log")
	}
	// Invalid UTF-8 is made valid, so that the record stays canonical.
	seq, err := l.Record(context.Background(), Event{Code: "auth.x", Category: CategoryAuth, Message: "bad \xff byte"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Read(seq, 1)
	if err != nil || len(r) != 1 || r[0].Message != "bad \uFFFD byte" {
		t.Fatalf("read back: %v %+v", err, r)
	}
}

// deletingKeys adds DeleteSecret to the test key store.
type deletingKeys struct{ *keystore.Store }

func (d deletingKeys) DeleteSecret(name string) error {
	return os.Remove(filepath.Join(d.Dir(), name+".sealed"))
}

func TestEraseRootKeyThenOnDeviceVerification(t *testing.T) {
	env := newTestEnv(t)
	root := env.rootKeyAfterOpen()
	l := env.open(func(c *Config) { c.Keys = deletingKeys{env.keys} })
	fill(t, l, 40)
	if err := l.EraseRootKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	fill(t, l, 3)
	l.Close()
	if _, err := env.keys.Secret(keystore.ItemLogRootKey); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("root key still in the key store: %v", err)
	}
	st, err := LoadState(env.keys)
	if err != nil {
		t.Fatal(err)
	}
	// On the device: the current epoch's key, the head, the public key.
	rep, err := VerifyDir(context.Background(), env.logDir(), VerifyOptions{EpochKey: st.Key, Epoch: st.Epoch, DevicePublicKey: env.pub(), Head: st})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.MACUnchecked == 0 || rep.MACVerified == 0 || rep.Checkpoints == 0 {
		t.Fatalf("on-device verification without the root key: %+v", rep)
	}
	// The current key does not open earlier epochs: a record of an old
	// epoch changed on the device is still caught by the signed
	// checkpoint that covers it.
	seg := env.segPaths()[0]
	lines := readLines(t, seg)
	i := indexOf(t, lines, 5)
	lines[i] = bytes.Replace(lines[i], []byte("wrong password"), []byte("right password"), 1)
	writeLines(t, seg, lines)
	rep, _ = VerifyDir(context.Background(), env.logDir(), VerifyOptions{EpochKey: st.Key, Epoch: st.Epoch, DevicePublicKey: env.pub(), Head: st})
	if rep.OK {
		t.Fatal("a changed old record passed on-device verification")
	}
	// Offline, the exported root key names it exactly.
	rep, _ = VerifyDir(context.Background(), env.logDir(), VerifyOptions{RootKey: root, DevicePublicKey: env.pub()})
	wantDamage(t, rep, KindModified, 5)
}

func TestReopenChecksTheTail(t *testing.T) {
	env := newTestEnv(t)
	l := env.open(func(c *Config) { c.EpochEntries = 1000 })
	fill(t, l, 10)
	l.Close()
	seg := env.segPaths()[0]
	lines := readLines(t, seg)
	i := indexOf(t, lines, 6)
	lines[i] = bytes.Replace(lines[i], []byte("user"), []byte("usex"), 1)
	writeLines(t, seg, lines)
	l = env.open(func(c *Config) { c.EpochEntries = 1000 })
	recs := mustReadAll(t, env)
	l.Close()
	for _, r := range recs {
		if r.Code == CodeTailDamaged && r.Fields["bad_mac"] == "1" {
			return
		}
	}
	t.Fatal("a changed record of the current epoch was not reported at reopening")
}

func mustReadAll(t *testing.T, env *testEnv) []Record {
	t.Helper()
	recs, err := ReadDir(env.logDir(), 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// A write failure is never silent: the caller gets the error, OnFailure is
// told once, and every later Record fails too.
func TestWriteFailureIsReported(t *testing.T) {
	env := newTestEnv(t)
	var told atomic.Int32
	l := env.open(func(c *Config) { c.OnFailure = func(error) { told.Add(1) } })
	defer l.Close()
	fill(t, l, 3)
	l.w.f.Close() // the disk goes away under the writer
	if _, err := l.Record(context.Background(), testEvent(1)); err == nil {
		t.Fatal("Record succeeded on a failed disk")
	}
	if _, err := l.Record(context.Background(), testEvent(2)); err == nil {
		t.Fatal("Record succeeded after a failure")
	}
	if told.Load() != 1 {
		t.Fatalf("OnFailure called %d times, want 1", told.Load())
	}
}

// A newest segment holding only garbage is reported, kept aside as
// evidence, and the log goes on.
func TestReopenSetsAsideGarbageSegment(t *testing.T) {
	env := newTestEnv(t)
	l := env.open()
	fill(t, l, 5)
	next := l.Last() + 1
	l.Close()
	bad := filepath.Join(env.logDir(), segName(next))
	if err := os.WriteFile(bad, []byte("not a record\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l = env.open()
	fill(t, l, 2)
	l.Close()
	if _, err := os.Stat(bad + ".damaged"); err != nil {
		t.Fatalf("garbage segment not kept aside: %v", err)
	}
	found := false
	for _, r := range mustReadAll(t, env) {
		found = found || r.Code == CodeTailDamaged
	}
	if !found {
		t.Fatal("no log.tail.damaged event")
	}
	if rep := env.verify(nil); !rep.OK {
		t.Fatalf("log after setting the garbage aside: %+v", rep)
	}
}

// A forwarder reads the log in pages; each page continues where the last
// one stopped, across segment boundaries, and sees every record once.
func TestReadInPagesAcrossSegments(t *testing.T) {
	env := newTestEnv(t)
	l := env.open(func(c *Config) { c.MaxBytes, c.SegmentBytes = 4<<20, 64<<10 })
	defer l.Close()
	fillParallel(t, l, 700)
	all := mustRead(t, l, 1)
	if len(env.segPaths()) < 3 {
		t.Fatal("want several segments")
	}
	var paged []Record
	for from := uint64(1); ; {
		recs, err := l.Read(from, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		paged = append(paged, recs...)
		from = recs[len(recs)-1].Seq + 1
	}
	if len(paged) != len(all) {
		t.Fatalf("paged read %d records, full read %d", len(paged), len(all))
	}
	for i := range all {
		if paged[i].Seq != all[i].Seq || !bytes.Equal(paged[i].Line(), all[i].Line()) {
			t.Fatalf("record %d differs", i)
		}
	}
	// A jump back (a forwarder re-sending) still works.
	if recs, err := l.Read(3, 2); err != nil || len(recs) != 2 || recs[0].Seq != 3 {
		t.Fatalf("re-read: %v %d", err, len(recs))
	}
}

// A root key of another length than 32 bytes (the verifier file allows 16
// to 64) verifies as well.
func TestRootKeyOfOtherLength(t *testing.T) {
	env := newTestEnv(t)
	long := make([]byte, 64)
	for i := range long {
		long[i] = byte(i)
	}
	if err := env.keys.PutSecret(keystore.ItemLogRootKey, keystore.NewSecret(append([]byte(nil), long...))); err != nil {
		t.Fatal(err)
	}
	// A crash before the first state store (the state sealed at creation
	// holds a 32-byte key) still reopens.
	l := env.open(func(c *Config) { c.Keys = droppingKeys{env.keys} })
	fill(t, l, 3)
	l.Close()
	l = env.open()
	fill(t, l, 30)
	l.Close()
	if rep := env.verify(nil); !rep.OK || rep.MACVerified != rep.Records {
		t.Fatalf("64-byte root key: %+v", rep)
	}
}

// droppingKeys loses every store of the log's state that names a record:
// what a kill before the persister's first store leaves behind.
type droppingKeys struct{ Keys }

func (d droppingKeys) PutSecret(name string, v *keystore.Secret) error {
	if name == ItemLogState {
		if s, err := unmarshalState(v.Bytes()); err == nil && s.Seq > 0 {
			return nil
		}
	}
	return d.Keys.PutSecret(name, v)
}

// A crash right after the first records of a new log, before any state
// was stored off the append path, leaves a log that reopens, goes on and
// verifies (it used to be refused as ErrKeyState, so the daemon could not
// start).
func TestCrashBeforeFirstStateStoreReopens(t *testing.T) {
	env := newTestEnv(t)
	l := env.open(func(c *Config) { c.Keys, c.EpochEntries = droppingKeys{env.keys}, 1000 })
	fill(t, l, 5)
	l.Close() // its final state store is lost too
	l = env.open()
	fill(t, l, 2)
	l.Close()
	if rep := env.verify(env.lastCheckpoint()); !rep.OK || rep.FirstSeq != 1 || rep.MACVerified != rep.Records {
		t.Fatalf("log after the crash: %+v", rep)
	}
}

// A new log's first record is log.opened: no checkpoint of the empty tree,
// which would commit to nothing; the first checkpoint covers records.
func TestNewLogBeginsWithoutEmptyCheckpoint(t *testing.T) {
	env := newTestEnv(t)
	l := env.open()
	fill(t, l, 3)
	if _, err := NewestCheckpoint(env.logDir()); err == nil || !strings.Contains(err.Error(), "yet") {
		t.Fatalf("a log without a checkpoint yet: %v", err)
	}
	l.Close()
	recs := mustReadAll(t, env)
	if recs[0].Seq != 1 || recs[0].Code != CodeOpened {
		t.Fatalf("record 1 is %s, want %s", recs[0].Code, CodeOpened)
	}
	rep := env.verify(env.lastCheckpoint())
	if !rep.OK || rep.Checkpoints != 1 || rep.LastCheckpoint != 4 {
		t.Fatalf("want one checkpoint (at close) of records 1 to 4: %+v", rep)
	}
}

// Every filter of Query, alone and combined, read in pages of 5 across
// several segments, gives exactly the matching records, newest first, each
// once: compared with the filter applied to the whole log.
func TestQueryEveryFilterWithPaging(t *testing.T) {
	env := newTestEnv(t)
	l := env.open(func(c *Config) { c.MaxBytes, c.SegmentBytes = 4<<20, 64<<10 })
	defer l.Close()
	start := env.clock.Now()
	for i := range 400 {
		e := testEvent(i)
		switch i % 4 {
		case 0:
			e.Category, e.Code, e.Severity, e.Actor = CategoryNetwork, "network.port.scan", SeverityError, "scanner"
		case 1:
			e.Category, e.Code, e.Severity, e.Actor = CategoryConfig, "config.changed", SeverityNotice, "nurse"
		}
		if _, err := l.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		env.clock.Add(time.Second)
	}
	if len(env.segPaths()) < 3 {
		t.Fatal("want several segments")
	}
	all := mustRead(t, l, 1)
	sev := func(s Severity) *Severity { return &s }
	at := func(sec int) time.Time { return start.Add(time.Duration(sec) * time.Second) }
	for name, q := range map[string]Query{
		"everything":           {},
		"sequence range":       {FromSeq: 20, ToSeq: 70},
		"from only":            {FromSeq: 100},
		"to only":              {ToSeq: 9},
		"time range":           {Since: at(30), Until: at(59)},
		"since only":           {Since: at(100)},
		"until only":           {Until: at(5)},
		"one category":         {Categories: []Category{CategoryConfig}},
		"two categories":       {Categories: []Category{CategoryConfig, CategoryNetwork}},
		"severity error":       {MaxSeverity: sev(SeverityError)},
		"severity notice":      {MaxSeverity: sev(SeverityNotice)},
		"severity emergency":   {MaxSeverity: sev(SeverityEmergency)},
		"actor":                {Actor: "nurse"},
		"unknown actor":        {Actor: "nobody"},
		"all combined":         {FromSeq: 10, ToSeq: 110, Since: at(10), Until: at(100), Categories: []Category{CategoryNetwork, CategoryAuth}, MaxSeverity: sev(SeverityWarning), Actor: "scanner"},
		"category and time":    {Categories: []Category{CategoryAuth}, Since: at(50)},
		"severity and actor":   {MaxSeverity: sev(SeverityWarning), Actor: "user2"},
		"log's own, by source": {Categories: []Category{CategoryLog}},
	} {
		var want []uint64
		for i := len(all) - 1; i >= 0; i-- {
			r := all[i]
			if q.FromSeq != 0 && r.Seq < q.FromSeq || q.ToSeq != 0 && r.Seq > q.ToSeq || !q.match(&r) {
				continue
			}
			want = append(want, r.Seq)
		}
		var got []uint64
		q.Limit = 5
		for pages := 0; ; pages++ {
			p, err := l.Query(q)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(p.Records) > 5 || p.Next != "" && len(p.Records) != 5 {
				t.Fatalf("%s: page of %d records, next %q", name, len(p.Records), p.Next)
			}
			for _, r := range p.Records {
				got = append(got, r.Seq)
			}
			if p.Next == "" {
				break
			}
			if pages > len(all) {
				t.Fatalf("%s: paging does not end", name)
			}
			q.Cursor = p.Next
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
		if name != "unknown actor" && name != "severity emergency" && len(want) == 0 {
			t.Errorf("%s: the test data match nothing", name)
		}
	}
}

// Erasing the root key in epoch 0, where the current key is the root key
// itself, begins a new epoch: the key the device keeps MACed no record
// written before the erasure.
func TestEraseRootKeyInEpochZeroLeavesNoKeyOfEarlierRecords(t *testing.T) {
	env := newTestEnv(t)
	root := env.rootKeyAfterOpen()
	l := env.open(func(c *Config) { c.Keys, c.EpochEntries = deletingKeys{env.keys}, 1000 })
	fill(t, l, 5)
	if err := l.EraseRootKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.Close()
	st, err := LoadState(env.keys)
	if err != nil {
		t.Fatal(err)
	}
	if st.Epoch == 0 || bytes.Equal(st.Key, root) {
		t.Fatalf("after the erasure the device still holds epoch %d's key", st.Epoch)
	}
	for _, r := range mustReadAll(t, env) {
		if r.Code == CodeRootKeyErased {
			break
		}
		if r.Epoch >= st.Epoch {
			t.Fatalf("record %d (before the erasure) is of epoch %d, whose key the device keeps", r.Seq, r.Epoch)
		}
	}
	rep, err := VerifyDir(context.Background(), env.logDir(), VerifyOptions{RootKey: root, DevicePublicKey: env.pub(), Head: st})
	if err != nil || !rep.OK || rep.MACVerified != rep.Records {
		t.Fatalf("offline verification after the erasure: %v %+v", err, rep)
	}
}

// Under policy archive the oldest segments move to ArchiveDir, after a
// removal record; the log stays verifiable on its own, and the archive put
// back in front of it gives the whole log from record 1, verified.
func TestCapacityArchivePolicy(t *testing.T) {
	env := newTestEnv(t)
	archive := filepath.Join(t.TempDir(), "archive")
	l := env.open(func(c *Config) {
		c.MaxBytes, c.SegmentBytes, c.EpochEntries, c.Policy, c.ArchiveDir = 1<<20, 64<<10, 1<<20, PolicyArchive, archive
	})
	fillParallel(t, l, 4000)
	l.Close()
	archived, err := listSegments(archive)
	if err != nil || len(archived) == 0 {
		t.Fatalf("nothing archived: %v", err)
	}
	rep := env.verify(env.lastCheckpoint())
	if !rep.OK || rep.FirstSeq == 1 {
		t.Fatalf("log after archiving: %+v", rep)
	}
	whole := filepath.Join(t.TempDir(), "whole")
	os.MkdirAll(whole, 0o700)
	for _, dir := range []string{archive, env.logDir()} {
		segs, _ := listSegments(dir)
		for _, s := range segs {
			b, err := os.ReadFile(filepath.Join(dir, s.name))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(whole, s.name), b, 0o600)
		}
	}
	all, err := VerifyDir(context.Background(), whole, VerifyOptions{RootKey: env.rootKey(), DevicePublicKey: env.pub(), Checkpoint: env.lastCheckpoint()})
	if err != nil || !all.OK || all.FirstSeq != 1 || all.MACVerified != all.Records || all.Records <= rep.Records {
		t.Fatalf("archive and log together: %v %+v", err, all)
	}
}
