package eventlog

import (
	"bytes"
	"crypto/ed25519"
	"testing"
)

// seedLines returns genuine lines of a small log for the fuzz corpora.
func seedLines(t testing.TB) ([][]byte, *testEnv) {
	env := newTestEnv(t)
	l := env.open()
	fill(t, l, 20)
	l.Record(t.Context(), Event{Code: "config.changed", Category: CategoryConfig, Severity: SeverityNotice,
		Message: "quote \" backslash \\ tab \t newline \n unicode é \u2028", Cause: "c", Action: "a"})
	l.Close()
	var out [][]byte
	for _, p := range env.segPaths() {
		for _, line := range readLines(t, p) {
			out = append(out, bytes.TrimSuffix(line, []byte("\n")))
		}
	}
	return out, env
}

// FuzzParseRecord: the decoder never panics, and what it accepts is
// canonical: re-encoding gives the same bytes and the fast head parser
// agrees with the full decoder.
func FuzzParseRecord(f *testing.F) {
	lines, _ := seedLines(f)
	for _, l := range lines {
		f.Add(l)
	}
	f.Add([]byte(`{"seq":1}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"seq":01,"time":"x"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := ParseRecord(line)
		var h lineHead
		headOK := parseHead(bytes.TrimSuffix(line, []byte("\n")), &h)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Line(), bytes.TrimSuffix(line, []byte("\n"))) {
			t.Fatalf("accepted a non-canonical line:\n%q\n%q", line, r.Line())
		}
		if !headOK || h.seq != r.Seq || h.epoch != r.Epoch || !bytes.Equal(h.prev[:], r.Prev) || !bytes.Equal(h.mac[:], r.MAC) {
			t.Fatalf("head parser disagrees with the decoder on %q", line)
		}
		r2, err := ParseRecord(r.Line())
		if err != nil || !bytes.Equal(r2.Line(), r.Line()) || !r2.Time.Equal(r.Time) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

// FuzzParseCheckpoint: the checkpoint parser never panics; an accepted
// body re-formats to the same bytes; a note that verifies was signed by
// the device key.
func FuzzParseCheckpoint(f *testing.F) {
	_, env := seedLines(f)
	good := env.lastCheckpoint()
	f.Add(good)
	f.Add(bytes.Replace(good, []byte("\n2"), []byte("\n3"), 1))
	f.Add([]byte("medguard/x/eventlog\n1\nAAAA\nmedguard-epoch 0\n\n— x abc\n"))
	f.Add([]byte("\n\n\n"))
	pub := env.pub()
	other, _, _ := ed25519.GenerateKey(nil)
	f.Fuzz(func(t *testing.T, text []byte) {
		if c, err := ParseCheckpointBody(text); err == nil {
			if !bytes.Equal(formatCheckpoint(c.Origin, c.Size, c.Root, c.Epoch), text) {
				t.Fatalf("non-canonical checkpoint body accepted: %q", text)
			}
		}
		c, err := ParseCheckpoint(text, pub)
		if err == nil && !bytes.HasPrefix(text, formatCheckpoint(c.Origin, c.Size, c.Root, c.Epoch)) {
			t.Fatalf("verified checkpoint does not begin with its body")
		}
		if _, err := ParseCheckpoint(text, other); err == nil {
			t.Fatalf("a checkpoint verified under a key that signed nothing")
		}
	})
}

// FuzzStreamVerifier: a verifier fed arbitrary lines never panics, and
// never reports a log as verified when a line is not genuine.
func FuzzStreamVerifier(f *testing.F) {
	lines, env := seedLines(f)
	f.Add(bytes.Join(lines[:6], []byte("\n")))
	f.Add(bytes.Join(lines[15:19], []byte("\n")))
	root, pub := env.rootKey(), env.pub()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return // keeps each run short; the verifier is linear in its input
		}
		v := NewStreamVerifier(root, pub)
		var n int
		genuine := true
		for l := range bytes.SplitSeq(data, []byte("\n")) {
			v.AddLine(l)
			n++
			if !containsLine(lines, l) {
				genuine = false
			}
		}
		rep := v.Finish()
		if rep.OK && !genuine {
			t.Fatalf("stream with a forged line verified: %+v", rep)
		}
	})
}

func containsLine(lines [][]byte, l []byte) bool {
	for _, x := range lines {
		if bytes.Equal(x, l) {
			return true
		}
	}
	return false
}
