package keystore_test

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/keystore/keystoretest"
)

func newTPMBackend(t *testing.T, tpm *keystoretest.SWTPM, pcrs ...int) *keystore.TPMBackend {
	t.Helper()
	b, err := keystore.NewTPMBackend(keystore.TPMConfig{Device: tpm.Device(), PCRs: pcrs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestTPMBackendConformance runs the backend contract against swtpm; the
// foreign blob comes from a second swtpm with other seeds.
func TestTPMBackendConformance(t *testing.T) {
	keystoretest.RunBackendConformance(t, func(t *testing.T) keystore.Backend {
		return newTPMBackend(t, keystoretest.StartSWTPM(t, ""), 7)
	})
}

func TestTPMBackendWithoutPCRs(t *testing.T) {
	tpm := keystoretest.StartSWTPM(t, "")
	b := newTPMBackend(t, tpm)
	blob, err := b.Seal("data-key", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := b.Unseal("data-key", blob); err != nil || len(pt) != 32 {
		t.Fatalf("unseal: %v", err)
	}
	if _, err := b.Unseal("identity", blob); !errors.Is(err, keystore.ErrUnseal) {
		t.Fatalf("other item: err = %v, want ErrUnseal", err)
	}
}

// TestTPMBackendSurvivesRestart: a TPM restarted with the same state (a
// reboot) derives the same storage key and unseals what it sealed before.
func TestTPMBackendSurvivesRestart(t *testing.T) {
	tpm := keystoretest.StartSWTPM(t, "")
	b, err := keystore.NewTPMBackend(keystore.TPMConfig{Device: tpm.Device(), PCRs: []int{7, 0}})
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("a key that must survive a reboot")
	blob, err := b.Seal("identity", secret)
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	tpm.Restart()
	b = newTPMBackend(t, tpm, 7, 0)
	pt, err := b.Unseal("identity", blob)
	if err != nil {
		t.Fatalf("unseal after restart: %v", err)
	}
	if !bytes.Equal(pt, secret) {
		t.Fatal("unsealed other bytes after restart")
	}
}

// TestTPMBackendPCRChangeRefuses is the attack test of PCR binding: boot
// other software (extend PCR 7) and the keys stay sealed.
func TestTPMBackendPCRChangeRefuses(t *testing.T) {
	tpm := keystoretest.StartSWTPM(t, "")
	b, err := keystore.NewTPMBackend(keystore.TPMConfig{Device: tpm.Device(), PCRs: []int{7}})
	if err != nil {
		t.Fatal(err)
	}
	blob, err := b.Seal("identity", []byte("bound to PCR 7"))
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	tpm.ExtendPCR(7)
	b = newTPMBackend(t, tpm, 7)
	_, err = b.Unseal("identity", blob)
	if !errors.Is(err, keystore.ErrUnseal) || !strings.Contains(err.Error(), "PCR policy failed") {
		t.Fatalf("err = %v, want ErrUnseal saying the PCR policy failed", err)
	}
	// A PCR outside the policy does not matter.
	blob, err = b.Seal("identity", []byte("bound to PCR 7"))
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	tpm.ExtendPCR(8)
	b = newTPMBackend(t, tpm, 7)
	if _, err := b.Unseal("identity", blob); err != nil {
		t.Fatalf("PCR 8 changed, policy is PCR 7: %v", err)
	}
}

func TestTPMBackendBadDevice(t *testing.T) {
	_, err := keystore.NewTPMBackend(keystore.TPMConfig{Device: "/nonexistent/tpmrm0"})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/tpmrm0") {
		t.Fatalf("err = %v, want an error naming the device", err)
	}
	if _, err := keystore.NewTPMBackend(keystore.TPMConfig{Device: "tcp://127.0.0.1:1", PCRs: []int{24}}); err == nil {
		t.Fatal("PCR 24 accepted")
	}
}

// TestTPMStoreRefusesAfterPCRChange: the boot's view. A key store sealed
// to PCR 7 does not open its identity after PCR 7 changed; the error names
// the file and the PCR policy, and nothing on disk changes. After a reboot
// into the original state (swtpm restart: PCRs reset) it opens again.
func TestTPMStoreRefusesAfterPCRChange(t *testing.T) {
	tpm := keystoretest.StartSWTPM(t, "")
	state := t.TempDir()
	cfg := keystore.Config{Backend: keystore.BackendTPM, TPMDevice: tpm.Device(), TPMPCRs: []int{7}}
	s, err := keystore.OpenFromConfig(state, cfg)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Identity()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureTLSCertificate([]string{"dev.example"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := snapshot(t, filepath.Join(state, "keys"))

	tpm.ExtendPCR(7)
	s, err = keystore.OpenFromConfig(state, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Identity()
	idFile := filepath.Join(state, "keys", "identity.sealed")
	if !errors.Is(err, keystore.ErrUnseal) || !strings.Contains(err.Error(), idFile) || !strings.Contains(err.Error(), "PCR policy failed") {
		t.Fatalf("err = %v, want ErrUnseal naming %s and the PCR policy", err, idFile)
	}
	if _, err := s.TLSCertificate(); !errors.Is(err, keystore.ErrUnseal) {
		t.Fatalf("TLS key after PCR change: %v", err)
	}
	s.Close()
	if after := snapshot(t, filepath.Join(state, "keys")); !maps.Equal(after, before) {
		t.Fatal("a refused unseal changed the key store on disk")
	}

	tpm.Restart()
	cfg.TPMDevice = tpm.Device() // swtpm listens on new ports
	s, err = keystore.OpenFromConfig(state, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id2, err := s.Identity()
	if err != nil || !id2.Equal(id) {
		t.Fatalf("identity after reboot into the sealed state: %v", err)
	}
}

// snapshot maps every file name in dir to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		m[e.Name()] = string(b)
	}
	return m
}
