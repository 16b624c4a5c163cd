package forward

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/medguard/medguard/internal/eventlog"
)

// This file is the hospital side: it checks what a SIEM received (the
// files rsyslog wrote) against each device's verification key. Every
// entry must be authentic (its MAC verifies), none may be missing between
// the first and the last, and the checkpoints among them must be
// consistent (IEC 62443-4-2 CR 3.9, protection of audit information;
// CR 6.1, audit log accessibility).

// DeviceKey is what verifies one device's entries: the event log's root
// MAC key and the device's public identity key, from its exported
// verifier file.
type DeviceKey struct {
	Device  string
	RootKey []byte
	Public  ed25519.PublicKey
}

// reorderWindow is how many entries of a device may arrive ahead of an
// earlier one before the earlier one is taken as missing. The forwarder
// sends in order; resends after a reconnect are duplicates, not
// reorderings.
const reorderWindow = 4096

// Verifier checks received messages of one or many devices.
type Verifier struct {
	keys      map[string]DeviceKey
	devices   map[string]*deviceStream
	foreign   int
	unkeyed   map[string]int
	malformed []LineError
}

// LineError is a line that claims to be a medguard message but is not one.
type LineError struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Err  string `json:"error"`
}

// NewVerifier returns a verifier for the devices of keys. It keeps copies
// of the keys, which Finish erases: the caller may erase its own.
func NewVerifier(keys []DeviceKey) *Verifier {
	v := &Verifier{keys: map[string]DeviceKey{}, devices: map[string]*deviceStream{}, unkeyed: map[string]int{}}
	for _, k := range keys {
		k.RootKey = slices.Clone(k.RootKey)
		v.keys[k.Device] = k
	}
	return v
}

// AddLine adds one line of a receiver's file: an RFC 5424 message. Lines
// of other programs are counted and skipped.
func (v *Verifier) AddLine(file string, n int, line []byte) {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) == 0 {
		return
	}
	m, err := ParseMessage(line)
	if errors.Is(err, ErrNotMedguard) {
		v.foreign++
		return
	}
	if err != nil {
		if bytes.Contains(line, []byte("["+SDID)) || bytes.Contains(line, []byte(" "+AppName+" ")) {
			v.malformed = append(v.malformed, LineError{file, n, err.Error()})
		} else {
			v.foreign++
		}
		return
	}
	k, ok := v.keys[m.Device]
	if !ok {
		v.unkeyed[m.Device]++
		return
	}
	d := v.devices[m.Device]
	if d == nil {
		d = newDeviceStream(k)
		v.devices[m.Device] = d
	}
	d.add(file, n, m)
}

// AddError records a line of a receiver's file that could not be read
// as a message (for example, one too long).
func (v *Verifier) AddError(file string, n int, err error) {
	v.malformed = append(v.malformed, LineError{file, n, err.Error()})
}

// Result is the outcome of a verification.
type Result struct {
	OK      bool           `json:"ok"`
	Devices []DeviceResult `json:"devices"`
	// Foreign counts lines of other programs (skipped).
	Foreign int `json:"foreign_lines"`
	// Unkeyed counts messages of devices for which no key was given.
	Unkeyed map[string]int `json:"unkeyed_devices,omitempty"`
	// Malformed lists lines that claim to be medguard's but do not parse.
	Malformed []LineError `json:"malformed,omitempty"`
}

// DeviceResult is one device's verification.
type DeviceResult struct {
	Device     string `json:"device"`
	Messages   uint64 `json:"messages"`
	Duplicates uint64 `json:"duplicates"` // resends around reconnects, identical
	eventlog.Report
}

// Finish ends the verification. Devices with a key but no message get a
// report that says so.
func (v *Verifier) Finish() Result {
	res := Result{OK: len(v.malformed) == 0, Foreign: v.foreign, Malformed: v.malformed}
	if len(v.unkeyed) > 0 {
		res.Unkeyed = v.unkeyed
	}
	names := make([]string, 0, len(v.keys))
	for name := range v.keys {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		d := v.devices[name]
		if d == nil {
			res.Devices = append(res.Devices, DeviceResult{Device: name, Report: eventlog.Report{OK: false,
				First: &eventlog.Damage{Kind: eventlog.KindDeleted, Detail: "no message of this device was received"}}})
			res.OK = false
			continue
		}
		dr := d.finish()
		res.OK = res.OK && dr.OK
		res.Devices = append(res.Devices, dr)
	}
	for _, k := range v.keys {
		clear(k.RootKey)
	}
	return res
}

// deviceStream puts one device's messages in order, drops identical
// duplicates and feeds the rest to the event log's stream verifier.
type deviceStream struct {
	device     string
	sv         *eventlog.StreamVerifier
	started    bool
	next       uint64
	seen       map[uint64][sha256.Size]byte
	pending    map[uint64][]byte
	messages   uint64
	duplicates uint64
	extra      []eventlog.Damage // found here, not by the stream verifier
}

func newDeviceStream(k DeviceKey) *deviceStream {
	return &deviceStream{device: k.Device, sv: eventlog.NewStreamVerifier(k.RootKey, k.Public),
		seen: map[uint64][sha256.Size]byte{}, pending: map[uint64][]byte{}}
}

func (d *deviceStream) damage(k eventlog.Kind, seq uint64, format string, a ...any) {
	if len(d.extra) < 100 {
		d.extra = append(d.extra, eventlog.Damage{Kind: k, Seq: seq, Detail: fmt.Sprintf(format, a...)})
	}
}

func (d *deviceStream) add(file string, n int, m *Received) {
	d.messages++
	where := fmt.Sprintf("%s:%d", file, n)
	lineSeq, lineMAC, ok := peekEntry(m.Line)
	seq := m.Seq
	switch {
	case !ok:
		// Fed as is: the stream verifier classifies the damage.
	case lineSeq != m.Seq:
		d.damage(eventlog.KindModified, m.Seq, "%s: the message's structured data says entry %d but it carries entry %d", where, m.Seq, lineSeq)
		seq = lineSeq
	case len(m.MAC) > 0 && !bytes.Equal(lineMAC, m.MAC):
		d.damage(eventlog.KindModified, m.Seq, "%s: the MAC in the structured data differs from the entry's", where)
	}
	h := sha256.Sum256(m.Line)
	if old, ok := d.seen[seq]; ok {
		d.duplicate(seq, old, h, where)
		return
	}
	if p, ok := d.pending[seq]; ok {
		d.duplicate(seq, sha256.Sum256(p), h, where)
		return
	}
	if d.started && seq < d.next {
		d.damage(eventlog.KindReordered, seq, "%s: entry %d arrived after %d later entries", where, seq, reorderWindow)
		return
	}
	d.pending[seq] = slices.Clone(m.Line)
	if len(d.pending) > reorderWindow {
		d.drain(false)
	}
}

// peekEntry reads the sequence number and the MAC of a stored line, to
// order it and to compare it with the message's structured data. It does
// not check the line: the stream verifier parses it strictly (canonical
// form, MAC chain) when it is fed, so one strict parse per entry suffices.
func peekEntry(line []byte) (seq uint64, mac []byte, ok bool) {
	var w struct {
		Seq *uint64 `json:"seq"`
		MAC *string `json:"mac"`
	}
	if json.Unmarshal(line, &w) != nil || w.Seq == nil || w.MAC == nil {
		return 0, nil, false
	}
	mac, err := hex.DecodeString(*w.MAC)
	if err != nil {
		return 0, nil, false
	}
	return *w.Seq, mac, true
}

func (d *deviceStream) duplicate(seq uint64, old, h [sha256.Size]byte, where string) {
	if old == h {
		d.duplicates++
		return
	}
	d.damage(eventlog.KindInserted, seq, "%s: a second, different entry %d", where, seq)
}

// drain feeds pending entries in order: all of them at the end, else
// until the window is half empty, skipping gaps (the stream verifier
// reports them).
func (d *deviceStream) drain(all bool) {
	keys := make([]uint64, 0, len(d.pending))
	for s := range d.pending {
		keys = append(keys, s)
	}
	slices.Sort(keys)
	if !all {
		keys = keys[:len(keys)/2]
	}
	for _, s := range keys {
		line := d.pending[s]
		delete(d.pending, s)
		d.sv.AddLine(line)
		d.seen[s] = sha256.Sum256(line)
		d.started, d.next = true, s+1
	}
}

func (d *deviceStream) finish() DeviceResult {
	d.drain(true)
	rep := d.sv.Finish()
	if len(d.extra) > 0 {
		rep.Damage = append(d.extra, rep.Damage...)
		rep.First = &rep.Damage[0]
		rep.OK = false
	}
	return DeviceResult{Device: d.device, Messages: d.messages, Duplicates: d.duplicates, Report: rep}
}
