// Package forward sends the Security Event Log to the hospital's SIEMs:
// store and forward, RFC 5424 syslog messages over TLS with RFC 5425
// octet-counting framing (or CEF inside the same envelope), to several
// destinations at once.
//
// The model is a reader with a cursor. The event log is the store: the
// forwarder never holds events of its own and the device never waits for it.
// Each destination has a persisted cursor, the sequence number of the next
// event to send. A destination's loop reads a batch from the log at its
// cursor, formats it, writes it to its TLS connection and, when the log has
// nothing new, waits on the log. When the SIEM is unreachable the backlog
// simply stays in the log; when the SIEM returns it is sent oldest first.
//
// RFC 5425 has no application-level acknowledgement: bytes written to a
// socket that dies may never reach the receiver's disk. The cursor is
// therefore advanced conservatively (see rewind.go): only past events whose
// bytes the receiver's TCP has acknowledged at least a resend window ago.
// After a reconnect or a restart the forwarder resends from there, so that
// nothing is lost and duplicates occur only around a reconnect, each
// recognisable by its sequence number (IEC 62443-4-2 CR 2.8, CR 6.1).
//
// Every message carries, in its structured data, the device id, the
// sequence number, the category, the boot id and the entry's MAC, and as its
// text the entry exactly as the log stored it, so that the hospital can
// verify completeness and authenticity of what its SIEM received with
// `medguard log verify-forwarded` (IEC 62443-4-2 CR 3.9, protection of audit
// information). Checkpoint entries (code "log.checkpoint") are forwarded
// like any other entry.
package forward
