package device

import (
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/keystore/keystoretest"
)

// TestBootRefusesTPMAfterPCRChange is the boot's view of PCR binding, with
// a real TPM (swtpm): a device whose keys are sealed to PCR 7 boots; after
// PCR 7 changed (other boot software) the boot stops at the key store with
// one message naming the key file and the PCR policy, and changes nothing
// on disk; after a reboot into the sealed state it boots again.
func TestBootRefusesTPMAfterPCRChange(t *testing.T) {
	tpm := keystoretest.StartSWTPM(t, "")
	cfg, stateDir := testConfig(t)
	cfg.Config.KeyStore.Backend = "tpm"
	cfg.Config.KeyStore.KEKFile = ""
	cfg.Config.KeyStore.TPMDevice = tpm.Device()
	cfg.Config.KeyStore.TPMPCRs = []int{7}
	if st, err := boot(t, cfg); err != nil || st != Provisioning {
		t.Fatalf("first boot: %s %v", st, err)
	}

	tpm.ExtendPCR(7)
	before := snapshot(t, stateDir)
	st, err := boot(t, cfg)
	if err == nil {
		t.Fatalf("boot succeeded after PCR 7 changed (state %s)", st)
	}
	for _, w := range []string{"boot check keystore", "identity.sealed", "PCR policy failed"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if after := snapshot(t, stateDir); after != before {
		t.Errorf("a refused boot changed the disk:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	tpm.Restart() // a reboot: PCRs reset to the values the keys are sealed to
	cfg.Config.KeyStore.TPMDevice = tpm.Device()
	if st, err := boot(t, cfg); err != nil || st != Provisioning {
		t.Fatalf("boot after reboot into the sealed state: %s %v", st, err)
	}
}
