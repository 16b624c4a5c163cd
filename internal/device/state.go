package device

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// State is the device's lifecycle state (ARCHITECTURE.md, "Device states").
type State string

// The device states.
const (
	// Booting: the boot checks are running; nothing is served yet.
	Booting State = "booting"
	// Provisioning: first start; only the setup interface is open until an
	// admin account exists.
	Provisioning State = "provisioning"
	// Operational: every check passed; clinical use.
	Operational State = "operational"
	// Degraded: a security or health event an admin must look at; clinical
	// use continues.
	Degraded State = "degraded"
	// NotSuitable: software or configuration integrity is broken, or the
	// health monitor gave up: the device is not suitable for clinical use.
	NotSuitable State = "not-suitable"
	// Recovery: known-good software is being restored, or service access
	// is granted.
	Recovery State = "recovery"
)

// transitions lists, for each state, the states it may move to. Anything
// else is a programming error and is refused.
var transitions = map[State][]State{
	Booting:      {Provisioning, Operational, Degraded, NotSuitable, Recovery},
	Provisioning: {Operational, NotSuitable, Recovery},
	Operational:  {Degraded, NotSuitable, Recovery},
	Degraded:     {Operational, NotSuitable, Recovery},
	NotSuitable:  {Recovery},
	Recovery:     {Booting, Operational, Provisioning, NotSuitable},
}

// CanMove reports whether the lifecycle allows moving from a to b.
func CanMove(a, b State) bool {
	for _, s := range transitions[a] {
		if s == b {
			return true
		}
	}
	return false
}

// Transition is one change of state, as subscribers see it.
type Transition struct {
	From, To State
	Time     time.Time
	// Cause says why, for people ("manifest signature does not verify").
	Cause string
	// Action is the recommended action, if any.
	Action string
	// Seq is the sequence number of the event that recorded it.
	Seq uint64
}

// Machine holds the device state and tells subscribers of every change.
// Every transition is recorded as a security event before it is announced.
type Machine struct {
	rec eventlog.Recorder
	now func() time.Time

	mu    sync.Mutex // guards the fields below
	cur   Transition // the transition into the current state
	subs  map[int]chan Transition
	nextS int
}

// NewMachine returns a Machine in state Booting. Transitions are recorded
// through rec.
func NewMachine(rec eventlog.Recorder, now func() time.Time) *Machine {
	if now == nil {
		now = time.Now
	}
	return &Machine{
		rec:  rec,
		now:  now,
		cur:  Transition{To: Booting, Time: now().UTC()},
		subs: map[int]chan Transition{},
	}
}

// Current returns the transition into the current state.
func (m *Machine) Current() Transition {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur
}

// State returns the current state.
func (m *Machine) State() State { return m.Current().To }

// Move changes the state to `to`, records the change and tells every
// subscriber. Moving to the current state with a new cause is recorded too
// (a second integrity failure while not-suitable is news). A move the
// lifecycle does not allow returns an error and changes nothing.
func (m *Machine) Move(ctx context.Context, to State, cause, action string) (Transition, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	from := m.cur.To
	if from != to && !CanMove(from, to) {
		return Transition{}, fmt.Errorf("device state: cannot move from %s to %s", from, to)
	}
	t := Transition{From: from, To: to, Time: m.now().UTC(), Cause: cause, Action: action}
	seq, err := m.rec.Record(ctx, stateEvent(t))
	if err != nil {
		// The state changes all the same: a device that cannot log must
		// still warn its clinician. The failure is returned for the caller
		// to report on every channel that still works.
		err = fmt.Errorf("record device state change %s → %s: %w", from, to, err)
	}
	t.Seq = seq
	m.cur = t
	for _, ch := range m.subs {
		select {
		case ch <- t:
		default:
			// A slow subscriber misses intermediate states but can always
			// read the current one; never block the device on it.
		}
	}
	return t, err
}

// Subscribe returns a channel that receives every later transition, and a
// function that cancels the subscription. The channel has room for buf
// transitions; a subscriber that falls further behind misses some (it can
// read Current).
func (m *Machine) Subscribe(buf int) (<-chan Transition, func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := make(chan Transition, max(buf, 1))
	id := m.nextS
	m.nextS++
	m.subs[id] = ch
	return ch, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if _, ok := m.subs[id]; ok {
			delete(m.subs, id)
			close(ch)
		}
	}
}

func stateEvent(t Transition) eventlog.Event {
	sev := eventlog.SeverityNotice
	switch t.To {
	case NotSuitable:
		sev = eventlog.SeverityCritical
	case Degraded, Recovery:
		sev = eventlog.SeverityWarning
	}
	return eventlog.Event{
		Code:     "device.state.changed",
		Category: eventlog.CategorySystem,
		Severity: sev,
		Actor:    "system",
		Source:   "device",
		Message:  fmt.Sprintf("device state changed from %s to %s", t.From, t.To),
		Cause:    t.Cause,
		Action:   t.Action,
		Fields:   map[string]string{"from": string(t.From), "to": string(t.To)},
	}
}
