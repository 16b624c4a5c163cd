package eventlog

import (
	"strconv"
)

// syslogFacility is RFC 5424's "log audit" facility (13).
const syslogFacility = 13

// syslogTime is the header's TIMESTAMP: RFC 3339 in UTC with exactly six
// fractional digits, the most RFC 5424 allows (section 6.2.3, TIME-SECFRAC
// = "." 1*6DIGIT). Format truncates the nanoseconds, it does not round, so
// the header never claims a later time than the record. The record in MSG
// keeps its full RFC 3339 time with nanoseconds.
const syslogTime = "2006-01-02T15:04:05.000000Z07:00"

// FormatRFC5424 formats a record as an RFC 5424 syslog message whose MSG is
// the record's stored line, so that the receiver can verify it:
//
//	<PRI>1 TIME HOST medguard - CODE [medguard@32473 seq="N" cat="C"] LINE
//
// TIME has microseconds (syslogTime); LINE, and so the MAC, is unchanged.
//
// 32473 is the example enterprise number of RFC 5612; a device maker
// replaces it with its own.
func FormatRFC5424(r Record, host string) []byte {
	if host == "" {
		host = "-"
	}
	b := []byte{'<'}
	b = strconv.AppendUint(b, uint64(syslogFacility*8+int(r.Severity)), 10)
	b = append(b, ">1 "...)
	b = r.Time.UTC().AppendFormat(b, syslogTime)
	b = append(b, ' ')
	b = append(b, printable(host, 255)...)
	b = append(b, " medguard - "...)
	b = append(b, printable(r.Code, 32)...)
	b = append(b, ` [medguard@32473 seq="`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `" cat="`...)
	b = append(b, printable(string(r.Category), 32)...)
	b = append(b, `"] `...)
	return append(b, r.Line()...)
}

// printable keeps the PRINTUSASCII characters RFC 5424 allows in header
// fields (and none that needs escaping in a parameter value).
func printable(s string, max int) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(out) < max; i++ {
		if c := s[i]; c > 32 && c < 127 && c != '"' && c != '\\' && c != ']' {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return string(out)
}
