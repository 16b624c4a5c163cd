package device

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/keystore"
)

// openKeyStore is boot step 1: open the key store and unseal (creating on
// first start) the device's keys.
func (d *Device) openKeyStore(ctx context.Context) (string, error) {
	kc := d.cfg.Config.KeyStore
	ks, err := keystore.OpenFromConfig(d.cfg.Config.Device.StateDir, keystore.Config(kc))
	if err != nil {
		return "", err
	}
	if err := d.checkIdentityKept(ks); err != nil {
		ks.Close()
		return "", err
	}
	id, err := ks.Identity()
	if err != nil {
		ks.Close()
		d.record(ctx, eventlog.Event{
			Code: "keystore.unseal.failed", Category: eventlog.CategorySystem, Severity: eventlog.SeverityCritical,
			Actor: "system", Source: "keystore", Message: "the device identity key could not be unsealed",
			Cause:  err.Error(),
			Action: "check that the key files and the TPM (or key-encryption key) belong to this device; restore the key store from the device's backup or re-provision the device",
		})
		return "", err
	}
	clear(id)
	d.keys = ks
	d.onClose(ks.Close)
	return fmt.Sprintf("%s backend, %s", ks.Backend(), ks.Dir()), nil
}

// checkIdentityKept refuses a key store that lost its identity key while
// the event log it signs exists: creating a new identity would make the
// log's signed checkpoints unverifiable and let whoever deleted the file
// start a new history under the device's name. Only a first start (no log
// yet) creates the identity. Nothing is written.
func (d *Device) checkIdentityKept(ks *keystore.Store) error {
	items, err := ks.Items()
	if err != nil {
		return err
	}
	if slices.Contains(items, keystore.ItemIdentity) {
		return nil
	}
	logDir := filepath.Join(d.cfg.Config.Device.StateDir, "log")
	if !slices.Contains(items, eventlog.ItemLogState) && isEmptyDir(logDir) {
		return nil // first start
	}
	return fmt.Errorf("key %s is missing but the event log %s exists: the device identity key was deleted or the key store is incomplete; restore %s from the device's backup (a new identity is created only on a first start)",
		filepath.Join(ks.Dir(), keystore.ItemIdentity+".sealed"), logDir, ks.Dir())
}

// openDataKey returns the state database's data-encryption key, creating
// it only when the database does not exist yet: a database whose key is
// gone must not be opened with a new one (its secrets would be unreadable
// and its accounts silently lost). Nothing is written when it refuses.
func (d *Device) openDataKey(dbPath string) (*keystore.Secret, error) {
	dk, err := d.keys.Secret(keystore.ItemDataKey)
	if err == nil || !errors.Is(err, keystore.ErrNotFound) {
		return dk, err
	}
	if _, serr := os.Stat(dbPath); serr == nil {
		return nil, fmt.Errorf("key %s is missing but the state database %s exists: its secret values cannot be read without it; restore the key store from the device's backup",
			filepath.Join(d.keys.Dir(), keystore.ItemDataKey+".sealed"), dbPath)
	}
	return d.keys.EnsureSecret(keystore.ItemDataKey, 32)
}

// isEmptyDir reports whether dir is missing or holds no entries.
func isEmptyDir(dir string) bool {
	ents, err := os.ReadDir(dir)
	return errors.Is(err, os.ErrNotExist) || (err == nil && len(ents) == 0)
}
