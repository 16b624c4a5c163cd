package device

import (
	"context"
	"fmt"

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
