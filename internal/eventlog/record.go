package eventlog

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Record is one stored entry of the log: the event, the key epoch its MAC
// was made in, the MAC of the previous record (Prev) and its own MAC.
//
// A record's stored line is its canonical form (docs/eventlog.md, "Format"):
//
//	{"seq":…,"time":…,…,"epoch":E,"prev":"<64 hex>","mac":"<64 hex>"}
//
// MAC = HMAC-SHA256(K_E, the line up to, not including, `,"mac":"`), so the
// MAC covers the event, the epoch and the previous record's MAC.
type Record struct {
	Event
	// Epoch is the number of the MAC key epoch the record was written in.
	Epoch uint64 `json:"epoch"`
	// Prev is the MAC of the record before it (32 zero bytes for seq 1).
	Prev []byte `json:"-"`
	// MAC is the record's HMAC-SHA256.
	MAC []byte `json:"-"`

	line []byte // the stored line, without '\n', when known
}

// Line returns the record's stored line, without its terminating newline:
// exactly the bytes the log wrote and the MAC and the Merkle leaf cover.
func (r Record) Line() []byte {
	if r.line != nil {
		return r.line
	}
	b := appendBody(nil, &r.Event, r.Epoch, r.Prev)
	return appendMAC(b, r.MAC)
}

// Limits on what an event may hold, so that one record stays small and the
// readers of the log (verifiers, forwarders, decoders) can bound what they
// read from disk or the network.
const (
	// MaxLineBytes bounds a stored line.
	MaxLineBytes = 16 << 10
	maxFields    = 32
	maxFieldKey  = 64
	maxString    = 2048
	macSize      = 32
)

// ErrMalformed marks a line that is not a canonical record. When it is a
// stored line, the log was modified.
var ErrMalformed = errors.New("malformed event log record")

// MalformedError says what is wrong with a line.
type MalformedError struct {
	Msg string
}

func (e *MalformedError) Error() string { return "malformed event log record: " + e.Msg }
func (e *MalformedError) Unwrap() error { return ErrMalformed }

func malformed(format string, a ...any) error {
	return &MalformedError{Msg: fmt.Sprintf(format, a...)}
}

// wireRecord is the JSON shape of a line, for decoding.
type wireRecord struct {
	Seq    *uint64           `json:"seq"`
	Time   *string           `json:"time"`
	Boot   *string           `json:"boot"`
	Code   *string           `json:"code"`
	Cat    *string           `json:"cat"`
	Sev    *uint8            `json:"sev"`
	Actor  string            `json:"actor"`
	Src    string            `json:"src"`
	Msg    *string           `json:"msg"`
	Cause  string            `json:"cause"`
	Action string            `json:"action"`
	Fields map[string]string `json:"fields"`
	Epoch  *uint64           `json:"epoch"`
	Prev   *string           `json:"prev"`
	MAC    *string           `json:"mac"`
}

// ParseRecord parses a stored line (with or without its newline) and
// checks that it is in canonical form: re-encoding the parsed record must
// give exactly the same bytes. It returns an error wrapping ErrMalformed
// otherwise. It does not check the MAC: that needs the key (see Verifier).
func ParseRecord(line []byte) (Record, error) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	if len(line) > MaxLineBytes {
		return Record{}, malformed("line of %d bytes exceeds %d", len(line), MaxLineBytes)
	}
	var w wireRecord
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Record{}, malformed("%v", err)
	}
	if w.Seq == nil || w.Time == nil || w.Boot == nil || w.Code == nil || w.Cat == nil || w.Sev == nil || w.Msg == nil || w.Epoch == nil || w.Prev == nil || w.MAC == nil {
		return Record{}, malformed("a required key is missing")
	}
	t, err := time.Parse(time.RFC3339Nano, *w.Time)
	if err != nil {
		return Record{}, malformed("time: %v", err)
	}
	prev, err1 := hex.DecodeString(*w.Prev)
	mac, err2 := hex.DecodeString(*w.MAC)
	if err1 != nil || err2 != nil || len(prev) != macSize || len(mac) != macSize {
		return Record{}, malformed("prev and mac must be %d hex bytes", macSize)
	}
	r := Record{
		Event: Event{
			Seq: *w.Seq, Time: t.UTC(), BootID: *w.Boot, Code: *w.Code,
			Category: Category(*w.Cat), Severity: Severity(*w.Sev),
			Actor: w.Actor, Source: w.Src, Message: *w.Msg, Cause: w.Cause, Action: w.Action,
			Fields: w.Fields,
		},
		Epoch: *w.Epoch, Prev: prev, MAC: mac,
	}
	if len(r.Fields) == 0 {
		r.Fields = nil
	}
	canon := r.Line()
	if !bytes.Equal(canon, line) {
		return Record{}, malformed("not in canonical form at byte %d", firstDiff(canon, line))
	}
	r.line = canon
	return r, nil
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// checkEvent validates what a writer filled in.
func checkEvent(e *Event) error {
	if !codePattern(e.Code) {
		return fmt.Errorf("event code %q: want dotted lower-case words such as auth.login.failed", e.Code)
	}
	if !e.Category.Valid() {
		return fmt.Errorf("event %s: unknown category %q", e.Code, e.Category)
	}
	if !e.Severity.Valid() {
		return fmt.Errorf("event %s: invalid severity %d", e.Code, e.Severity)
	}
	if e.Message == "" {
		return fmt.Errorf("event %s: empty message", e.Code)
	}
	for _, s := range []string{e.Actor, e.Source, e.Message, e.Cause, e.Action} {
		if len(s) > maxString {
			return fmt.Errorf("event %s: a text of %d bytes exceeds %d", e.Code, len(s), maxString)
		}
	}
	if len(e.Fields) > maxFields {
		return fmt.Errorf("event %s: %d fields exceed %d", e.Code, len(e.Fields), maxFields)
	}
	for k, v := range e.Fields {
		if k == "" || len(k) > maxFieldKey || len(v) > maxString {
			return fmt.Errorf("event %s: field %.64q: empty or too long key or value", e.Code, k)
		}
	}
	return nil
}

func codePattern(c string) bool {
	if c == "" || len(c) > 128 || c[0] == '.' || c[len(c)-1] == '.' || !strings.Contains(c, ".") {
		return false
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-') || (b == '.' && c[i-1] == '.') {
			return false
		}
	}
	return true
}

// sanitize makes every text valid UTF-8, so that the canonical form is
// stable (JSON decoders replace invalid bytes).
func sanitize(e *Event) {
	fix := func(s string) string {
		if utf8.ValidString(s) {
			return s
		}
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	e.BootID, e.Actor, e.Source = fix(e.BootID), fix(e.Actor), fix(e.Source)
	e.Message, e.Cause, e.Action = fix(e.Message), fix(e.Cause), fix(e.Action)
	valid := true
	for k, v := range e.Fields {
		valid = valid && utf8.ValidString(k) && utf8.ValidString(v)
	}
	if !valid {
		f := make(map[string]string, len(e.Fields))
		for k, v := range e.Fields {
			f[fix(k)] = fix(v)
		}
		e.Fields = f
	}
}

// appendBody appends the MACed part of a record's line: everything up to,
// not including, `,"mac":"`.
func appendBody(b []byte, e *Event, epoch uint64, prev []byte) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"time":"`...)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, `,"boot":`, e.BootID)
	b = appendField(b, `,"code":`, e.Code)
	b = appendField(b, `,"cat":`, string(e.Category))
	b = append(b, `,"sev":`...)
	b = strconv.AppendUint(b, uint64(e.Severity), 10)
	if e.Actor != "" {
		b = appendField(b, `,"actor":`, e.Actor)
	}
	if e.Source != "" {
		b = appendField(b, `,"src":`, e.Source)
	}
	b = appendField(b, `,"msg":`, e.Message)
	if e.Cause != "" {
		b = appendField(b, `,"cause":`, e.Cause)
	}
	if e.Action != "" {
		b = appendField(b, `,"action":`, e.Action)
	}
	if len(e.Fields) > 0 {
		b = appendFields(b, e.Fields)
	}
	b = append(b, `,"epoch":`...)
	b = strconv.AppendUint(b, epoch, 10)
	b = append(b, `,"prev":"`...)
	b = appendHex(b, prev)
	return append(b, '"')
}

func appendFields(b []byte, f map[string]string) []byte {
	var arr [maxFields]string
	keys := arr[:0]
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, `,"fields":{`...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, f[k])
	}
	return append(b, '}')
}

// macSuffixLen is the length of `,"mac":"<64 hex>"}`.
const macSuffixLen = len(`,"mac":"`) + 2*macSize + len(`"}`)

func appendMAC(b, mac []byte) []byte {
	b = append(b, `,"mac":"`...)
	b = appendHex(b, mac)
	return append(b, `"}`...)
}

func appendHex(b, v []byte) []byte {
	if len(v) != macSize {
		v = make([]byte, macSize)
	}
	return hex.AppendEncode(b, v)
}

func appendField(b []byte, key, v string) []byte {
	b = append(b, key...)
	return appendString(b, v)
}

// appendString appends v as a JSON string: the canonical escaping is
// \" \\ \n \r \t and \u00XX for the other control characters; everything
// else, including non-ASCII UTF-8, is written as is.
func appendString(b []byte, v string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
			continue
		}
		b = append(b, v[start:i]...)
		switch c {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		}
		start = i + 1
	}
	b = append(b, v[start:]...)
	return append(b, '"')
}

// lineHead is what a verifier reads from a line without decoding the
// JSON: enough to check the MAC and the chain. Only a line whose MAC
// verifies is known to be canonical.
type lineHead struct {
	seq, epoch uint64
	prev, mac  [macSize]byte
	body       []byte // the MACed part
	checkpoint bool   // code is log.checkpoint
	removal    bool   // code is log.segments.removed
}

// parseHead reads the fixed prefix `{"seq":N,` and the fixed suffix
// `,"epoch":E,"prev":"…","mac":"…"}` of a line.
func parseHead(line []byte, h *lineHead) bool {
	const pfx = `{"seq":`
	if len(line) < len(pfx)+macSuffixLen+len(`,"epoch":0,"prev":""`)+2*macSize || !bytes.HasPrefix(line, []byte(pfx)) {
		return false
	}
	seq, n, ok := parseUint(line[len(pfx):])
	if !ok || line[len(pfx)+n] != ',' {
		return false
	}
	end := len(line) - macSuffixLen
	if !bytes.HasPrefix(line[end:], []byte(`,"mac":"`)) || !bytes.HasSuffix(line, []byte(`"}`)) {
		return false
	}
	if !decodeLowerHex(h.mac[:], line[end+8:len(line)-2]) {
		return false
	}
	const pk = `,"prev":"`
	p := end - 1 - 2*macSize - len(pk)
	if p < 0 || string(line[p:p+len(pk)]) != pk || line[end-1] != '"' {
		return false
	}
	if !decodeLowerHex(h.prev[:], line[p+len(pk):end-1]) {
		return false
	}
	i := p - 1
	for i >= 0 && line[i] >= '0' && line[i] <= '9' {
		i--
	}
	const ek = `,"epoch":`
	if i+1-len(ek) < 0 || string(line[i+1-len(ek):i+1]) != ek {
		return false
	}
	epoch, m, ok := parseUint(line[i+1 : p])
	if !ok || m != p-i-1 {
		return false
	}
	h.seq, h.epoch, h.body = seq, epoch, line[:end]
	h.checkpoint, h.removal = false, false
	// The first `,"code":"` is the code key: inside a string every quote
	// is escaped. Only the log's own codes matter here.
	if i := bytes.Index(line[:min(len(line), 320)], []byte(`,"code":"log.`)); i >= 0 {
		rest := line[i+len(`,"code":"`):]
		h.checkpoint = bytes.HasPrefix(rest, []byte(CodeCheckpoint+`"`))
		h.removal = bytes.HasPrefix(rest, []byte(CodeSegmentsRemoved+`"`))
	}
	return true
}

// parseUint parses a canonical decimal (no leading zeros) at the start of b.
func parseUint(b []byte) (v uint64, n int, ok bool) {
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		d := uint64(b[n] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, 0, false
		}
		v = v*10 + d
		n++
	}
	if n == 0 || (n > 1 && b[0] == '0') {
		return 0, 0, false
	}
	return v, n, true
}

// decodeLowerHex decodes canonical (lower-case) hex of exactly len(dst)
// bytes.
func decodeLowerHex(dst, src []byte) bool {
	if len(src) != 2*len(dst) {
		return false
	}
	bad := byte(0)
	for i := range dst {
		hi, lo := lowerHex[src[2*i]], lowerHex[src[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo&0x0f
	}
	return bad&0x80 == 0
}

// lowerHex maps '0'-'9' and 'a'-'f' to their values, everything else to 0xff.
var lowerHex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
	}
	return t
}()
