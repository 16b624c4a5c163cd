package device

import (
	"context"
	"testing"

	"github.com/medguard/medguard/internal/eventlog/eventlogtest"
)

func TestLifecycle(t *testing.T) {
	rec := &eventlogtest.Memory{}
	m := NewMachine(rec, nil)
	ch, cancel := m.Subscribe(8)
	defer cancel()
	ctx := context.Background()
	steps := []State{Provisioning, Operational, Degraded, Operational, NotSuitable, Recovery, Booting}
	for _, s := range steps {
		if _, err := m.Move(ctx, s, "test "+string(s), ""); err != nil {
			t.Fatalf("Move(%s): %v", s, err)
		}
		got := <-ch
		if got.To != s || got.Cause != "test "+string(s) {
			t.Fatalf("subscriber got %+v, want move to %s", got, s)
		}
		if m.State() != s {
			t.Fatalf("State() = %s, want %s", m.State(), s)
		}
	}
	evs := rec.Events()
	if len(evs) != len(steps) {
		t.Fatalf("%d events recorded, want %d (every transition is an event)", len(evs), len(steps))
	}
	for i, e := range evs {
		if e.Code != "device.state.changed" || e.Fields["to"] != string(steps[i]) {
			t.Errorf("event %d = %+v", i, e)
		}
	}
}

func TestRefusedTransitions(t *testing.T) {
	bad := [][2]State{
		{NotSuitable, Operational}, // only recovery leaves not-suitable
		{NotSuitable, Degraded},
		{Operational, Provisioning},
		{Operational, Booting},
		{Provisioning, Degraded},
	}
	for _, b := range bad {
		rec := &eventlogtest.Memory{}
		m := NewMachine(rec, nil)
		m.cur.To = b[0]
		if _, err := m.Move(context.Background(), b[1], "x", ""); err == nil {
			t.Errorf("%s → %s allowed", b[0], b[1])
		}
		if m.State() != b[0] || len(rec.Events()) != 0 {
			t.Errorf("%s → %s: a refused move changed something", b[0], b[1])
		}
	}
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	m := NewMachine(&eventlogtest.Memory{}, nil)
	_, cancel := m.Subscribe(1)
	defer cancel()
	for range 10 {
		if _, err := m.Move(context.Background(), Degraded, "again", ""); err != nil {
			t.Fatal(err)
		}
	}
}
