package eventlog

import (
	"context"
	"errors"
	"fmt"

	"github.com/medguard/medguard/internal/keystore"
)

// CodeRootKeyErased is the event of EraseRootKey.
const CodeRootKeyErased = "log.rootkey.erased"

// EraseRootKey erases the log's root key from the key store. Call it once
// the admin has exported the verifier key (medguard keys
// export-log-verifier): from then on nobody who takes the device can
// compute the keys of past epochs, not even from the key store. The device
// keeps only the current epoch's key; on-device verification then checks
// the MACs of the current epoch and, for older records, the chain links and
// the signed checkpoints (docs/eventlog.md). The key store must implement
// SecretDeleter.
//
// The log.rootkey.erased record begins a new key epoch, so that the key
// left on the device is none that MACed a record written before the
// erasure (in epoch 0 the current key is the root key itself). The sealed
// state follows within a second, or at Close.
func (l *Log) EraseRootKey(ctx context.Context) error {
	d, ok := l.cfg.Keys.(SecretDeleter)
	if !ok {
		return errors.New("erase event log root key: the key store cannot erase items")
	}
	if err := d.DeleteSecret(keystore.ItemLogRootKey); err != nil && !errors.Is(err, keystore.ErrNotFound) {
		return fmt.Errorf("erase event log root key: %w", err)
	}
	_, err := l.record(Event{Code: CodeRootKeyErased, Category: CategoryLog, Severity: SeverityNotice,
		Actor: systemActor, Source: logSrc,
		Message: "the event log's root key was erased from the device; only the exported verifier key can check earlier epochs now"}, true)
	return err
}
