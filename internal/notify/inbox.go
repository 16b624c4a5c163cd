package notify

import "sort"

// inbox holds the newest notifications, by ID. It is guarded by the
// Notifier's mutex.
type inbox struct {
	max   int
	rev   uint64 // revision of the newest change
	byID  map[uint64]*Notification
	order []uint64 // IDs, ascending
}

func newInbox(max int) *inbox {
	return &inbox{max: max, byID: map[uint64]*Notification{}}
}

// add inserts n (IDs arrive in ascending order, except on replays that
// the caller has deduplicated) and evicts beyond max.
func (b *inbox) add(n *Notification) {
	b.touch(n)
	b.byID[n.ID] = n
	i := sort.Search(len(b.order), func(i int) bool { return b.order[i] >= n.ID })
	b.order = append(b.order, 0)
	copy(b.order[i+1:], b.order[i:])
	b.order[i] = n.ID
	for len(b.order) > b.max {
		b.evict()
	}
}

// evict drops the oldest notification that nobody still has to act on
// (resolved, acknowledged or not needing acknowledgement, and not an
// active clinical warning), or else the oldest.
func (b *inbox) evict() {
	victim := 0
	for i, id := range b.order {
		n := b.byID[id]
		pending := (n.NeedsAck && n.Ack == nil) || (n.Active && n.hasAudience(Clinical))
		if !pending {
			victim = i
			break
		}
	}
	delete(b.byID, b.order[victim])
	b.order = append(b.order[:victim], b.order[victim+1:]...)
}

// touch gives n the next revision.
func (b *inbox) touch(n *Notification) {
	b.rev++
	n.rev = b.rev
}

// since returns copies of the notifications changed after rev, in the
// order of their changes.
func (b *inbox) since(rev uint64) []Notification {
	var out []Notification
	for _, id := range b.order {
		if n := b.byID[id]; n.rev > rev {
			out = append(out, n.clone())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rev < out[j].rev })
	return out
}
