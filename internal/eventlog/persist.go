package eventlog

import (
	"sync"
	"time"
)

// persistEvery bounds how often the state is stored: the sealed head lags
// the log by at most about this much, and an evolved key replaces the old
// one on disk within it.
const persistEvery = time.Second

// persister stores the log's state in the key store off the append path:
// only the newest state matters, so a slow key store (a TPM seals in tens
// of milliseconds) never slows group commit down. The state may lag the
// log (it names a durable record, never a future one), which Open handles.
type persister struct {
	keys Keys
	l    *Log

	mu   sync.Mutex // guards next
	next *State
	wake chan struct{}
	quit chan struct{}
	done chan struct{}
}

func newPersister(l *Log) *persister {
	p := &persister{keys: l.cfg.Keys, l: l, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *persister) offer(s *State) {
	p.mu.Lock()
	p.next.Zero()
	p.next = s
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *persister) run() {
	defer close(p.done)
	for {
		select {
		case <-p.wake:
			p.store()
		case <-p.quit:
			return
		}
		// At most every persistEvery: the state is small, but each store
		// costs two fsyncs (and a TPM seal), which group commit needs more.
		select {
		case <-time.After(persistEvery):
		case <-p.quit:
			return
		}
	}
}

func (p *persister) store() error {
	p.mu.Lock()
	s := p.next
	p.next = nil
	p.mu.Unlock()
	if s == nil {
		return nil
	}
	defer s.Zero()
	if err := storeState(p.keys, s); err != nil {
		p.l.fail(err)
		return err
	}
	return nil
}

// stop ends the goroutine and stores final synchronously.
func (p *persister) stop(final *State) error {
	close(p.quit)
	<-p.done
	p.offer(final)
	return p.store()
}
