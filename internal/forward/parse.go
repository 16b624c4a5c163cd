package forward

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/leodido/go-syslog/v4/rfc5424"
)

// Received is one medguard message as a receiver got it, parsed back.
type Received struct {
	Format   Format
	Device   string
	Seq      uint64
	Category string
	Boot     string
	MAC      []byte
	Code     string // the MSGID
	// Line is the entry as the device's log stored it, to be verified.
	Line []byte
	// Notification is the notification the entry raised, if the message
	// names one.
	Notification *Annotation
}

// ErrNotMedguard is returned by ParseMessage for a well-formed syslog
// message that another program sent (its APP-NAME is not medguard and it
// has no medguard structured data).
var ErrNotMedguard = errors.New("not a medguard message")

// MaxMessageSize is the largest message ParseMessage accepts, and the
// largest the forwarder sends.
const MaxMessageSize = 64 << 10

// ParseMessage parses one RFC 5424 message (without framing, without a
// trailing newline) as medguard sends it, in either format. A message that
// claims to be medguard's but lacks a part returns an error naming the
// part.
func ParseMessage(b []byte) (*Received, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("parse syslog message: %d bytes, more than %d", len(b), MaxMessageSize)
	}
	p := rfc5424.NewParser()
	msg, err := p.Parse(b)
	if err != nil {
		// Be lenient in one thing: a timestamp with more than the six
		// fractional digits RFC 5424 allows (as "medguard log export
		// --format rfc5424" writes); the entry carries the real time.
		if fixed, ok := truncateSecFrac(b); ok {
			msg, err = p.Parse(fixed)
		}
		if err != nil {
			return nil, fmt.Errorf("parse syslog message: %w", err)
		}
	}
	m := msg.(*rfc5424.SyslogMessage)
	var sd map[string]string
	if m.StructuredData != nil {
		sd = (*m.StructuredData)[SDID]
	}
	if (m.Appname == nil || *m.Appname != AppName) && sd == nil {
		return nil, ErrNotMedguard
	}
	if sd == nil {
		return nil, fmt.Errorf("parse medguard message: no [%s] structured data", SDID)
	}
	r := &Received{Device: sd[ParamDevice], Category: sd[ParamCategory], Boot: sd[ParamBoot]}
	if m.MsgID != nil {
		r.Code = *m.MsgID
	}
	if n, ok := (*m.StructuredData)[NotifySDID]; ok {
		r.Notification = &Annotation{Code: n["code"], Title: n["title"], Severity: n["severity"],
			Audience: n["audience"], Cause: n["cause"], Action: n["action"], Changes: n["changes"]}
	}
	if r.Device == "" && m.Hostname != nil {
		// The log's own export (medguard log export --format rfc5424)
		// names the device only as HOSTNAME.
		r.Device = *m.Hostname
	}
	if r.Device == "" {
		return nil, fmt.Errorf("parse medguard message: no %s parameter and no HOSTNAME", ParamDevice)
	}
	if r.Seq, err = strconv.ParseUint(sd[ParamSeq], 10, 64); err != nil || r.Seq == 0 {
		return nil, fmt.Errorf("parse medguard message: bad %s parameter %q", ParamSeq, sd[ParamSeq])
	}
	if mac, ok := sd[ParamMAC]; ok {
		if r.MAC, err = hex.DecodeString(mac); err != nil || len(r.MAC) == 0 {
			return nil, fmt.Errorf("parse medguard message %d: bad %s parameter", r.Seq, ParamMAC)
		}
	}
	if m.Message == nil {
		return nil, fmt.Errorf("parse medguard message %d: no MSG", r.Seq)
	}
	text := strings.TrimLeft(*m.Message, " ")
	if text == "" {
		return nil, fmt.Errorf("parse medguard message %d: empty MSG", r.Seq)
	}
	if strings.HasPrefix(text, "CEF:") {
		r.Format = FormatCEF
		line, ok := cefExtension(text, CEFEntryKey)
		if !ok {
			return nil, fmt.Errorf("parse medguard message %d: CEF record has no %s extension", r.Seq, CEFEntryKey)
		}
		r.Line = []byte(line)
	} else {
		r.Format = FormatRFC5424
		r.Line = []byte(text)
	}
	return r, nil
}

// truncateSecFrac returns b with the fraction of its TIMESTAMP cut to six
// digits, if it has more.
func truncateSecFrac(b []byte) ([]byte, bool) {
	// <PRI>1 TIMESTAMP …: the timestamp is the third field.
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return nil, false
	}
	j := bytes.IndexByte(b[i+1:], ' ')
	if j < 0 {
		return nil, false
	}
	ts := b[i+1 : i+1+j]
	dot := bytes.IndexByte(ts, '.')
	if dot < 0 {
		return nil, false
	}
	k := dot + 1
	for k < len(ts) && ts[k] >= '0' && ts[k] <= '9' {
		k++
	}
	if k-dot-1 <= 6 {
		return nil, false
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:i+1+dot+7]...)
	return append(out, b[i+1+k:]...), true
}

// cefExtension returns the unescaped value of key in a CEF record's
// extension. Keys are found only where one may start: after the seventh
// unescaped '|' of the header, at the start or after a space, followed by
// an unescaped '='.
func cefExtension(rec, key string) (string, bool) {
	ext, ok := cefExtensionPart(rec)
	if !ok {
		return "", false
	}
	// Split into key=value pairs: a value runs until the next " k=" where
	// k is a key (letters, digits, '_' and '.').
	for i := 0; i < len(ext); {
		eq := strings.IndexByte(ext[i:], '=')
		if eq < 0 {
			return "", false
		}
		k := ext[i : i+eq]
		vs := i + eq + 1
		ve := nextCEFKey(ext, vs)
		if k == key {
			return cefUnescape(ext[vs:ve]), true
		}
		i = ve + 1
	}
	return "", false
}

// cefExtensionPart returns what follows the seventh unescaped '|'.
func cefExtensionPart(rec string) (string, bool) {
	n := 0
	for i := 0; i < len(rec); i++ {
		switch rec[i] {
		case '\\':
			i++
		case '|':
			n++
			if n == 7 {
				return rec[i+1:], true
			}
		}
	}
	return "", false
}

// nextCEFKey returns the index of the space that ends the value starting
// at vs, or len(ext).
func nextCEFKey(ext string, vs int) int {
	for j := vs; j < len(ext); j++ {
		switch ext[j] {
		case '\\':
			j++
		case ' ':
			k := j + 1
			for k < len(ext) && isCEFKeyByte(ext[k]) {
				k++
			}
			if k > j+1 && k < len(ext) && ext[k] == '=' {
				return j
			}
		}
	}
	return len(ext)
}

func isCEFKeyByte(c byte) bool {
	return c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func cefUnescape(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			switch v[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(v[i])
			}
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
