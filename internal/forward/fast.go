package forward

import (
	"encoding/hex"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendMessage appends e's message to dst. It writes exactly what
// go-syslog's RFC 5424 builder (build) writes for the same entry — a test
// and a fuzz target hold the two equal — at a tenth of the cost, which
// the forwarder's throughput target needs on a small device.
func (f Format) appendMessage(dst []byte, h header, e Entry) ([]byte, error) {
	ev := &e.Event
	if !ev.Severity.Valid() {
		return dst, &FormatError{ev.Seq, "severity", ev.Severity.String()}
	}
	if !validHostname(h.device) {
		return dst, &FormatError{ev.Seq, "header", "time, device name or message refused by RFC 5424 grammar"}
	}
	if !utf8.ValidString(ev.BootID) || !utf8.ValidString(string(ev.Category)) {
		return dst, &FormatError{ev.Seq, "structured data", "a parameter was refused by RFC 5424 grammar"}
	}
	dst = append(dst, '<')
	dst = strconv.AppendUint(dst, uint64(h.facility)*8+uint64(ev.Severity), 10)
	dst = append(dst, ">1 "...)
	dst = ev.Time.UTC().Truncate(time.Microsecond).AppendFormat(dst, "2006-01-02T15:04:05.999999Z07:00")
	dst = append(dst, ' ')
	dst = append(dst, h.device...)
	dst = append(dst, " "+AppName+" - "...)
	dst = append(dst, msgID(ev.Code)...)
	// Parameters in the builder's order: sorted by name.
	dst = append(dst, " ["+SDID+" "+ParamBoot+`="`...)
	dst = appendSDValue(dst, ev.BootID)
	dst = append(dst, `" `+ParamCategory+`="`...)
	dst = appendSDValue(dst, string(ev.Category))
	dst = append(dst, `" `+ParamDevice+`="`...)
	dst = appendSDValue(dst, h.device)
	dst = append(dst, `" `+ParamMAC+`="`...)
	dst = hex.AppendEncode(dst, e.MAC)
	dst = append(dst, `" `+ParamSeq+`="`...)
	dst = strconv.AppendUint(dst, ev.Seq, 10)
	dst = append(dst, `"]`...)
	if h.annotate != nil {
		if a, ok := h.annotate(*ev); ok {
			dst = append(dst, "["+NotifySDID...)
			for _, p := range a.params() {
				if !utf8.ValidString(p[1]) {
					return dst, &FormatError{ev.Seq, "structured data", "a notification parameter was refused by RFC 5424 grammar"}
				}
				dst = append(dst, ' ')
				dst = append(dst, p[0]...)
				dst = append(dst, `="`...)
				dst = appendSDValue(dst, p[1])
				dst = append(dst, '"')
			}
			dst = append(dst, ']')
		}
	}
	switch f {
	case FormatRFC5424:
		if len(e.Line) == 0 {
			return dst, &FormatError{ev.Seq, "header", "time, device name or message refused by RFC 5424 grammar"}
		}
		dst = append(dst, ' ')
		dst = append(dst, e.Line...)
	case FormatCEF:
		dst = append(dst, ' ')
		dst = append(dst, cef(h, e)...)
	default:
		return dst, &FormatError{ev.Seq, "format", string(f)}
	}
	return dst, nil
}

// appendSDValue escapes '"', '\' and ']' (RFC 5424 section 6.3.3).
func appendSDValue(dst []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '"' || c == '\\' || c == ']' {
			dst = append(dst, '\\')
		}
		dst = append(dst, v[i])
	}
	return dst
}

// validHostname is RFC 5424's HOSTNAME: 1 to 255 printable US-ASCII
// characters, not "-" alone (which means none).
func validHostname(s string) bool {
	if len(s) == 0 || len(s) > 255 || s == "-" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}
