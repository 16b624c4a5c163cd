package state

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/medguard/medguard/internal/keystore"
)

// Memory is a Store in memory, for unit tests. Update works on a copy and
// swaps it in only when fn succeeds, so it is as atomic as Bolt.
type Memory struct {
	s *sealer

	mu   sync.RWMutex // guards data; Update holds it for writing throughout
	data map[string]map[string][]byte
}

// NewMemory returns an empty, migrated Memory store.
func NewMemory(dataKey *keystore.Secret) (*Memory, error) {
	s, err := newSealer(dataKey)
	if err != nil {
		return nil, err
	}
	m := &Memory{s: s, data: map[string]map[string][]byte{}}
	if err := migrate(m); err != nil {
		return nil, err
	}
	return m, nil
}

// View implements Store.
func (m *Memory) View(fn func(Tx) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn(secretTx{&memTx{data: m.data, ro: true}, m.s})
}

// Update implements Store.
func (m *Memory) Update(fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := make(map[string]map[string][]byte, len(m.data))
	for b, kv := range m.data {
		cp[b] = maps.Clone(kv)
	}
	if err := fn(secretTx{&memTx{data: cp}, m.s}); err != nil {
		return err
	}
	m.data = cp
	return nil
}

// SchemaVersion implements Store.
func (m *Memory) SchemaVersion() (v int, err error) {
	err = m.View(func(tx Tx) error { v, err = readSchema(tx); return err })
	return v, err
}

// Close implements Store.
func (m *Memory) Close() error { return nil }

type memTx struct {
	data map[string]map[string][]byte
	ro   bool
}

func (t *memTx) Get(bucket, key string) ([]byte, error) {
	if err := checkBucket(bucket); err != nil {
		return nil, err
	}
	v, ok := t.data[bucket][key]
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

func (t *memTx) Put(bucket, key string, value []byte) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if t.ro {
		return fmt.Errorf("put %s/%s: read-only transaction", bucket, key)
	}
	if key == "" {
		return fmt.Errorf("put %s: empty key", bucket)
	}
	if t.data[bucket] == nil {
		t.data[bucket] = map[string][]byte{}
	}
	t.data[bucket][key] = append([]byte(nil), value...)
	return nil
}

func (t *memTx) Delete(bucket, key string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if t.ro {
		return fmt.Errorf("delete %s/%s: read-only transaction", bucket, key)
	}
	delete(t.data[bucket], key)
	return nil
}

func (t *memTx) ForEach(bucket string, fn func(string, []byte) error) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	kv := t.data[bucket]
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		if err := fn(k, kv[k]); err != nil {
			return err
		}
	}
	return nil
}
