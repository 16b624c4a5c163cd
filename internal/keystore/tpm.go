package keystore

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// TPMConfig says which TPM seals the keys and to which PCRs.
type TPMConfig struct {
	// Device is the TPM: a character device (/dev/tpmrm0, the kernel's
	// resource manager) or tcp://HOST:PORT, the data port of swtpm.
	Device string
	// PCRs are the SHA-256 PCR indices (0 to 23) that items sealed from now
	// on are bound to. Empty: not bound to PCRs.
	PCRs []int
}

// TPMBackend seals items to a TPM 2.0: each item's data key is a sealed
// data object under a storage key that the TPM derives, the same on every
// start, from its owner-hierarchy seed (the TCG reference ECC P-256 SRK
// template). The object can only be loaded by this TPM, and, if PCRs are
// configured, only unsealed while those PCRs hold the values they had when
// the item was sealed (TPM2_PolicyPCR).
//
// It assumes the owner hierarchy has an empty authorization value, the
// default of a TPM that no other software has taken ownership of.
//
// It is safe for concurrent use: commands are serialised on one
// connection.
type TPMBackend struct {
	device string
	pcrs   []uint

	mu     sync.Mutex // guards tpm and srk, and serialises TPM commands
	tpm    transport.TPMCloser
	srk    tpm2.NamedHandle
	srkPub tpm2.TPMTPublic
}

// NewTPMBackend opens the TPM and creates the storage key.
func NewTPMBackend(cfg TPMConfig) (*TPMBackend, error) {
	var pcrs []uint
	for _, p := range cfg.PCRs {
		if p < 0 || p > 23 {
			return nil, fmt.Errorf("TPM backend: PCR %d out of range 0 to 23", p)
		}
		pcrs = append(pcrs, uint(p))
	}
	slices.Sort(pcrs)
	pcrs = slices.Compact(pcrs)
	t, err := openTPM(cfg.Device)
	if err != nil {
		return nil, fmt.Errorf("open TPM %s: %w", cfg.Device, err)
	}
	b := &TPMBackend{device: cfg.Device, pcrs: pcrs, tpm: t}
	if err := b.createSRK(); err != nil {
		t.Close()
		return nil, fmt.Errorf("TPM %s: create storage key: %w", cfg.Device, err)
	}
	return b, nil
}

func (b *TPMBackend) createSRK() error {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(b.tpm)
	if err != nil {
		return err
	}
	pub, err := rsp.OutPublic.Contents()
	if err != nil {
		tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}.Execute(b.tpm)
		return err
	}
	b.srk = tpm2.NamedHandle{Handle: rsp.ObjectHandle, Name: rsp.Name}
	b.srkPub = *pub
	return nil
}

// Kind implements Backend.
func (b *TPMBackend) Kind() string { return "tpm" }

// Device returns the TPM's device or address.
func (b *TPMBackend) Device() string { return b.device }

// PCRs returns the PCRs that new items are bound to.
func (b *TPMBackend) PCRs() []int {
	out := make([]int, len(b.pcrs))
	for i, p := range b.pcrs {
		out[i] = int(p)
	}
	return out
}

func pcrSelection(pcrs []uint) tpm2.TPMLPCRSelection {
	return tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
		Hash:      tpm2.TPMAlgSHA256,
		PCRSelect: tpm2.PCClientCompatible.PCRs(pcrs...),
	}}}
}

// encSession is an HMAC session salted with the storage key, that encrypts
// the secret parameter on its way to (dir EncryptIn) or from the TPM, so
// that the data key never crosses the bus in the clear.
func (b *TPMBackend) encSession(dir bool) tpm2.Session {
	d := tpm2.EncryptOut
	if dir {
		d = tpm2.EncryptIn
	}
	return tpm2.HMAC(tpm2.TPMAlgSHA256, 16, tpm2.AESEncryption(128, d), tpm2.Salted(b.srk.Handle, b.srkPub))
}

// Seal implements Backend.
func (b *TPMBackend) Seal(name string, pt []byte) ([]byte, error) {
	if len(pt) > maxSealedItem {
		return nil, fmt.Errorf("item of %d bytes exceeds the limit of %d", len(pt), maxSealedItem)
	}
	dek := make([]byte, tpmDataKeySize)
	defer clear(dek)
	if _, err := rand.Read(dek); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tpm == nil {
		return nil, errors.New("TPM backend is closed")
	}
	policy, err := b.policyDigestLocked()
	if err != nil {
		return nil, fmt.Errorf("TPM %s: compute PCR policy: %w", b.device, err)
	}
	rsp, err := tpm2.Create{
		ParentHandle: tpm2.AuthHandle{Handle: b.srk.Handle, Name: b.srk.Name, Auth: b.encSession(true)},
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			Data: tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: dek}),
		}},
		InPublic: tpm2.New2B(tpm2.TPMTPublic{
			Type:    tpm2.TPMAlgKeyedHash,
			NameAlg: tpm2.TPMAlgSHA256,
			ObjectAttributes: tpm2.TPMAObject{
				FixedTPM:    true,
				FixedParent: true,
				NoDA:        true,
				// Without PCRs the empty auth value authorises; with
				// PCRs only the policy does.
				UserWithAuth: len(b.pcrs) == 0,
			},
			AuthPolicy: tpm2.TPM2BDigest{Buffer: policy},
		}),
	}.Execute(b.tpm)
	if err != nil {
		return nil, fmt.Errorf("TPM %s: create sealed object: %w", b.device, err)
	}
	blob := marshalTPMBlobPrefix(b.pcrs, rsp.OutPublic, rsp.OutPrivate)
	var nonce [fileNonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	blob = append(blob, nonce[:]...)
	aead, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	return aead.Seal(blob, nonce[:], pt, fileAAD(blob, name)), nil
}

// policyDigestLocked returns the policy digest of PolicyPCR over the
// configured PCRs at their current values, computed by the TPM in a trial
// session; nil if no PCRs are configured.
func (b *TPMBackend) policyDigestLocked() ([]byte, error) {
	if len(b.pcrs) == 0 {
		return nil, nil
	}
	sess, closeSess, err := tpm2.PolicySession(b.tpm, tpm2.TPMAlgSHA256, 16, tpm2.Trial())
	if err != nil {
		return nil, err
	}
	defer closeSess()
	if _, err := (tpm2.PolicyPCR{PolicySession: sess.Handle(), Pcrs: pcrSelection(b.pcrs)}).Execute(b.tpm); err != nil {
		return nil, err
	}
	d, err := tpm2.PolicyGetDigest{PolicySession: sess.Handle()}.Execute(b.tpm)
	if err != nil {
		return nil, err
	}
	return d.PolicyDigest.Buffer, nil
}

// Unseal implements Backend. A blob that this TPM refuses (another TPM's,
// damaged, or PCRs changed) gives an error wrapping ErrUnseal that says
// which; trouble talking to the TPM gives an error that does not.
func (b *TPMBackend) Unseal(name string, blob []byte) ([]byte, error) {
	tb, err := parseTPMBlob(blob)
	if err != nil {
		return nil, err
	}
	dek, err := b.unsealDataKey(tb)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	if len(dek) != tpmDataKeySize {
		return nil, fmt.Errorf("sealed data key has %d bytes, want %d: %w", len(dek), tpmDataKeySize, ErrUnseal)
	}
	aead, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, tb.nonce, tb.sealed, fileAAD(tb.prefix, name))
	if err != nil {
		return nil, fmt.Errorf("blob fails authentication: damaged, tampered with, or sealed for another item than %q: %w", name, ErrUnseal)
	}
	return pt, nil
}

func (b *TPMBackend) unsealDataKey(tb *tpmBlob) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tpm == nil {
		return nil, errors.New("TPM backend is closed")
	}
	lrsp, err := tpm2.Load{
		ParentHandle: tpm2.AuthHandle{Handle: b.srk.Handle, Name: b.srk.Name, Auth: tpm2.PasswordAuth(nil)},
		InPrivate:    tb.private,
		InPublic:     tb.public,
	}.Execute(b.tpm)
	if err != nil {
		return nil, b.refused("TPM refused to load the sealed object (sealed by another TPM, or damaged)", err)
	}
	defer tpm2.FlushContext{FlushHandle: lrsp.ObjectHandle}.Execute(b.tpm)
	auth := b.encSession(false)
	if len(tb.pcrs) > 0 {
		sel := pcrSelection(tb.pcrs)
		auth = tpm2.Policy(tpm2.TPMAlgSHA256, 16, func(t transport.TPM, h tpm2.TPMISHPolicy, _ tpm2.TPM2BNonce) error {
			_, err := tpm2.PolicyPCR{PolicySession: h, Pcrs: sel}.Execute(t)
			return err
		}, tpm2.AESEncryption(128, tpm2.EncryptOut), tpm2.Salted(b.srk.Handle, b.srkPub))
	}
	ursp, err := tpm2.Unseal{
		ItemHandle: tpm2.AuthHandle{Handle: lrsp.ObjectHandle, Name: lrsp.Name, Auth: auth},
	}.Execute(b.tpm)
	if errors.Is(err, tpm2.TPMRCPolicyFail) || errors.Is(err, tpm2.TPMRCPCRChanged) {
		// IEC 62443-4-2 CR 3.14 (integrity of the boot process): keys are
		// released only to the measured software they were sealed to.
		return nil, fmt.Errorf("TPM refused to unseal: PCR policy failed, PCRs %v differ from when the item was sealed (other firmware, boot loader or kernel): %w", tb.pcrs, ErrUnseal)
	}
	if err != nil {
		return nil, b.refused("TPM refused to unseal", err)
	}
	return ursp.OutData.Buffer, nil
}

// refused wraps a TPM's refusal (a TPM response code) as ErrUnseal, and
// passes any other error (I/O with the TPM) through.
func (b *TPMBackend) refused(msg string, err error) error {
	if isTPMResponseCode(err) {
		return fmt.Errorf("%s: %v: %w", msg, err, ErrUnseal)
	}
	return fmt.Errorf("TPM %s: %w", b.device, err)
}

func isTPMResponseCode(err error) bool {
	var rc tpm2.TPMRC
	return errors.As(err, &rc)
}

// Close flushes the storage key and closes the TPM. It is idempotent.
func (b *TPMBackend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tpm == nil {
		return nil
	}
	tpm2.FlushContext{FlushHandle: b.srk.Handle}.Execute(b.tpm)
	err := b.tpm.Close()
	b.tpm = nil
	return err
}
