package device

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/keystore"
)

// openKeyStore is boot step 1: open the key store and unseal (creating on
// first start) the device's keys.
func (d *Device) openKeyStore(ctx context.Context) (string, error) {
	kc := d.cfg.Config.KeyStore
	b, err := openBackend(kc.Backend, kc.KEKFile, kc.TPMDevice, kc.TPMPCRs)
	if err != nil {
		return "", err
	}
	ks, err := keystore.Open(filepath.Join(d.cfg.Config.Device.StateDir, "keys"), b)
	if err != nil {
		b.Close()
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

// openBackend opens the key store backend the configuration names.
func openBackend(kind, kekFile, tpmDevice string, pcrs []int) (keystore.Backend, error) {
	switch kind {
	case "sealed-file":
		return keystore.NewFileBackend(kekFile)
	case "tpm":
		return nil, fmt.Errorf("keystore backend tpm (%s, PCRs %v): not available in this build yet", tpmDevice, pcrs)
	}
	return nil, fmt.Errorf("unknown keystore backend %q", kind)
}
