package integrity

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// PKCS11Key is a release key held in a hardware security module and used
// through PKCS#11 by OpenSC's pkcs11-tool (Debian package opensc), so that
// medguard itself needs no cgo. The private key never leaves the HSM; the
// PIN reaches the tool through its environment ("--pin env:…"), never its
// command line. Tested against softhsm2.
type PKCS11Key struct {
	// Tool is the pkcs11-tool program; empty means "pkcs11-tool" in PATH.
	Tool string
	// Module is the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so).
	Module string
	// Token is the token label, ID the key object's id in hex ("01").
	Token, ID string
	// PIN is the user PIN.
	PIN string

	pub PublicKey
}

const pinEnv = "MEDGUARD_PKCS11_PIN_FOR_TOOL"

func (k *PKCS11Key) tool() string {
	if k.Tool != "" {
		return k.Tool
	}
	return "pkcs11-tool"
}

func (k *PKCS11Key) check() error {
	if k.Module == "" || k.Token == "" || k.ID == "" {
		return errors.New("pkcs11 key: module, token and id are required")
	}
	if _, err := hex.DecodeString(k.ID); err != nil {
		return fmt.Errorf("pkcs11 key: id %q is not hex", k.ID)
	}
	return nil
}

// run runs the tool with args, stdin in, and returns its standard output.
func (k *PKCS11Key) run(ctx context.Context, in []byte, login bool, args ...string) ([]byte, error) {
	base := []string{"--module", k.Module, "--token-label", k.Token}
	if login {
		base = append(base, "--login", "--pin", "env:"+pinEnv)
	}
	cmd := exec.CommandContext(ctx, k.tool(), append(base, args...)...)
	cmd.Env = append(os.Environ(), pinEnv+"="+k.PIN)
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("pkcs11-tool %s: %w: %s", args[0], err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// GeneratePKCS11Key makes a new Ed25519 key pair inside the HSM under k's
// token and id, and returns it ready to sign.
func GeneratePKCS11Key(ctx context.Context, k PKCS11Key, label string) (*PKCS11Key, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	if _, err := k.run(ctx, nil, true, "--keypairgen", "--key-type", "EC:edwards25519", "--id", k.ID, "--label", label); err != nil {
		return nil, fmt.Errorf("generate release key in HSM: %w", err)
	}
	return OpenPKCS11Key(ctx, k)
}

// OpenPKCS11Key reads the public half of the key from the HSM.
func OpenPKCS11Key(ctx context.Context, k PKCS11Key) (*PKCS11Key, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	out, err := k.run(ctx, nil, false, "--read-object", "--type", "pubkey", "--id", k.ID)
	if err != nil {
		return nil, fmt.Errorf("read release public key from HSM: %w", err)
	}
	der := out
	if b, _ := pem.Decode(out); b != nil {
		der = b.Bytes
	}
	pk, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("release public key from HSM: %w", err)
	}
	ek, ok := pk.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("release key in HSM is %T, want Ed25519", pk)
	}
	k.pub = PublicKey{k: ek}
	return &k, nil
}

// Sign implements Signer: the HSM signs SignedMessage(pae) (CKM_EDDSA),
// and the signature is checked against the public key before it is used.
func (k *PKCS11Key) Sign(ctx context.Context, pae []byte) ([]byte, error) {
	msg := SignedMessage(pae)
	sig, err := k.run(ctx, msg, true, "--sign", "--mechanism", "EDDSA", "--id", k.ID)
	if err != nil {
		return nil, fmt.Errorf("sign with HSM: %w", err)
	}
	if !ed25519.Verify(k.pub.k, msg, sig) {
		return nil, errors.New("sign with HSM: the signature does not verify with the key's public half")
	}
	return sig, nil
}

// KeyID implements Signer.
func (k *PKCS11Key) KeyID() (string, error) { return k.pub.ID(), nil }

// PublicKey implements Signer.
func (k *PKCS11Key) PublicKey() PublicKey { return k.pub }

// String never shows the PIN.
func (k *PKCS11Key) String() string {
	return fmt.Sprintf("PKCS11Key(token %q, id %s, %s)", k.Token, k.ID, k.pub.ID())
}
