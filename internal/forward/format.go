package forward

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/medguard/medguard/internal/eventlog"
)

// Format is the wire format of a destination's messages. Both are RFC 5424
// messages with the same header and structured data; they differ in the
// MSG part.
type Format string

const (
	// FormatRFC5424 carries the entry's stored line as MSG.
	FormatRFC5424 Format = "rfc5424"
	// FormatCEF carries an ArcSight Common Event Format record as MSG,
	// whose extension cs6 ("entry") is the entry's stored line.
	FormatCEF Format = "cef"
)

// AppName is the APP-NAME of every message medguard sends.
const AppName = "medguard"

// SDID is the SD-ID of medguard's structured-data element. 32473 is the
// private enterprise number that RFC 5612 reserves for documentation; a
// device maker with a PEN of its own replaces it here.
const SDID = "medguard@32473"

// Structured-data parameter names (RFC 5424 section 6.3.3).
const (
	ParamDevice   = "device"
	ParamSeq      = "seq"
	ParamCategory = "cat"
	ParamBoot     = "boot"
	ParamMAC      = "mac"
)

// msgIDMax is the longest MSGID RFC 5424 allows (section 6.2.7).
const msgIDMax = 32

// timeFormat is RFC 3339 with the six fractional digits RFC 5424 allows at
// most (section 6.2.3).
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

// header is what every message of a forwarder has in common.
type header struct {
	device   string // HOSTNAME and the device parameter
	facility uint8  // RFC 5424 facility, 0 to 23
	annotate func(eventlog.Event) (Annotation, bool)
}

// NotifySDID is the SD-ID of the element that names the notification an
// entry raises.
const NotifySDID = "notification@32473"

// Annotation is the notification an entry raises, for the SIEM: the IT
// audience sees the cause and the recommended action next to the event.
type Annotation struct {
	Code, Title, Severity, Audience, Cause, Action string
	// Changes lists the changed values of a configuration change,
	// "what: old → new" joined by "; ", secrets masked; "" otherwise (and
	// then the parameter is left out).
	Changes string
}

// params returns the annotation's parameters, sorted by name.
func (a *Annotation) params() [][2]string {
	p := make([][2]string, 0, 7)
	p = append(p, [2]string{"action", a.Action}, [2]string{"audience", a.Audience}, [2]string{"cause", a.Cause})
	if a.Changes != "" {
		p = append(p, [2]string{"changes", a.Changes})
	}
	return append(p, [2]string{"code", a.Code}, [2]string{"severity", a.Severity}, [2]string{"title", a.Title})
}

// FormatError reports an entry that cannot be put into a message.
type FormatError struct {
	Seq    uint64
	Field  string
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("format event %d: %s: %s", e.Seq, e.Field, e.Reason)
}

// build returns the complete syslog message (without framing) for e.
func (f Format) build(h header, e Entry) (string, error) {
	ev := e.Event
	if !ev.Severity.Valid() {
		return "", &FormatError{ev.Seq, "severity", ev.Severity.String()}
	}
	m := &rfc5424.SyslogMessage{}
	m.SetPriority(h.facility*8 + uint8(ev.Severity))
	m.SetVersion(1)
	m.SetTimestamp(ev.Time.UTC().Format(timeFormat))
	m.SetHostname(h.device)
	m.SetAppname(AppName)
	m.SetMsgID(msgID(ev.Code))
	// The builder takes parameter values escaped (RFC 5424 section 6.3.3)
	// and silently empties one with a bare '"', '\' or ']'.
	m.SetParameter(SDID, ParamDevice, sdEscape(h.device))
	m.SetParameter(SDID, ParamSeq, strconv.FormatUint(ev.Seq, 10))
	m.SetParameter(SDID, ParamCategory, sdEscape(string(ev.Category)))
	m.SetParameter(SDID, ParamBoot, sdEscape(ev.BootID))
	m.SetParameter(SDID, ParamMAC, hex.EncodeToString(e.MAC))
	var ann *Annotation
	if h.annotate != nil {
		if a, ok := h.annotate(ev); ok {
			ann = &a
			for _, p := range a.params() {
				m.SetParameter(NotifySDID, p[0], sdEscape(p[1]))
			}
		}
	}
	switch f {
	case FormatRFC5424:
		m.SetMessage(string(e.Line))
	case FormatCEF:
		m.SetMessage(cef(h, e))
	default:
		return "", fmt.Errorf("format event %d: unknown format %q", ev.Seq, f)
	}
	// The builder silently ignores a value its grammar refuses; check
	// that everything arrived.
	if m.Timestamp == nil || m.Hostname == nil || m.Appname == nil || m.Message == nil {
		return "", &FormatError{ev.Seq, "header", "time, device name or message refused by RFC 5424 grammar"}
	}
	if sd := m.StructuredData; sd == nil || len((*sd)[SDID]) != 5 ||
		(*sd)[SDID][ParamBoot] != ev.BootID || (*sd)[SDID][ParamCategory] != string(ev.Category) || (*sd)[SDID][ParamDevice] != h.device {
		return "", &FormatError{ev.Seq, "structured data", "a parameter was refused by RFC 5424 grammar"}
	}
	if ann != nil {
		got := (*m.StructuredData)[NotifySDID]
		for _, p := range ann.params() {
			if got[p[0]] != p[1] {
				return "", &FormatError{ev.Seq, "structured data", "a notification parameter was refused by RFC 5424 grammar"}
			}
		}
	}
	return m.String()
}

func sdEscape(v string) string { return string(appendSDValue(nil, v)) }

// msgID returns code as an RFC 5424 MSGID: printable US-ASCII, at most 32
// characters; "-" if empty.
func msgID(code string) string {
	b := []byte(code)
	for i, c := range b {
		if c < 33 || c > 126 {
			b[i] = '_'
		}
	}
	if len(b) > msgIDMax {
		b = b[:msgIDMax]
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// cefSeverity maps RFC 5424 severities to CEF's 0 (lowest) to 10.
var cefSeverity = [...]int{10, 9, 8, 7, 5, 3, 2, 0}

// CEFEntryKey is the CEF extension that carries the stored line.
const CEFEntryKey = "cs6"

// cef renders e as a CEF:0 record (ArcSight CEF, revision 25).
func cef(h header, e Entry) string {
	ev := e.Event
	var b strings.Builder
	b.Grow(256 + 2*len(e.Line))
	b.WriteString("CEF:0|medguard|medguard|1|")
	b.WriteString(cefHeader(ev.Code))
	b.WriteByte('|')
	b.WriteString(cefHeader(ev.Message))
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(cefSeverity[ev.Severity]))
	b.WriteByte('|')
	ext := [][2]string{
		{"rt", strconv.FormatInt(ev.Time.UnixMilli(), 10)},
		{"dvchost", h.device},
		{"cat", string(ev.Category)},
		{"suser", ev.Actor},
		{"msg", ev.Message},
		{"cn1Label", "seq"}, {"cn1", strconv.FormatUint(ev.Seq, 10)},
		{"cs1Label", "boot"}, {"cs1", ev.BootID},
		{"cs2Label", "source"}, {"cs2", ev.Source},
		{"cs3Label", "mac"}, {"cs3", hex.EncodeToString(e.MAC)},
		{"cs6Label", "entry"}, {CEFEntryKey, string(e.Line)},
	}
	for i, kv := range ext {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv[0])
		b.WriteByte('=')
		b.WriteString(cefExtValue(kv[1]))
	}
	return b.String()
}

var (
	cefHeaderEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\n", " ", "\r", " ")
	cefExtEscaper    = strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\n", `\n`, "\r", `\r`)
)

func cefHeader(s string) string   { return cefHeaderEscaper.Replace(s) }
func cefExtValue(s string) string { return cefExtEscaper.Replace(s) }

// Message returns e as the complete message (without framing) that a
// forwarder of device with the given facility sends.
//
// Messages built here carry no notification element.
func (f Format) Message(device string, facility uint8, e Entry) (string, error) {
	b, err := f.appendMessage(nil, header{device: device, facility: facility}, e)
	return string(b), err
}
