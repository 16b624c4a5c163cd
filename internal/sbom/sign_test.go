package sbom

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnvelopeSignVerify(t *testing.T) {
	ctx := context.Background()
	k, _ := GenerateKey()
	other, _ := GenerateKey()
	body := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6"}`)
	env, err := SignEnvelope(ctx, k, PayloadCycloneDX, body)
	if err != nil {
		t.Fatal(err)
	}
	typ, got, err := OpenEnvelope(ctx, env, k.Public())
	if err != nil || typ != PayloadCycloneDX || string(got) != string(body) {
		t.Fatalf("open = %q %q %v", typ, got, err)
	}
	// Attack: a different key.
	if _, _, err := OpenEnvelope(ctx, env, other.Public()); !errors.Is(err, ErrSignature) {
		t.Errorf("other key: %v, want ErrSignature", err)
	}
	// Attack: swap the payload (base64 of another SBOM) keeping the signature.
	forged := strings.Replace(string(env), `"payload": "`, `"payload": "e30`, 1)
	if _, _, err := OpenEnvelope(ctx, []byte(forged), k.Public()); !errors.Is(err, ErrSignature) {
		t.Errorf("forged payload: %v, want ErrSignature", err)
	}
	// Attack: relabel the payload type.
	relabeled := strings.Replace(string(env), PayloadCycloneDX, PayloadSPDX, 1)
	if _, _, err := OpenEnvelope(ctx, []byte(relabeled), k.Public()); !errors.Is(err, ErrSignature) {
		t.Errorf("relabeled payload type: %v, want ErrSignature", err)
	}
}

func TestDetachedSignVerify(t *testing.T) {
	k, _ := GenerateKey()
	other, _ := GenerateKey()
	body := []byte("sbom bytes")
	sig := SignDetached(k, body)
	if err := VerifyDetached(body, sig, k.Public()); err != nil {
		t.Fatal(err)
	}
	if err := VerifyDetached([]byte("sbom bytez"), sig, k.Public()); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered sbom: %v", err)
	}
	if err := VerifyDetached(body, sig, other.Public()); !errors.Is(err, ErrSignature) {
		t.Errorf("other key: %v", err)
	}
	if err := VerifyDetached(body, []byte("garbage"), k.Public()); !errors.Is(err, ErrSignature) {
		t.Errorf("garbage signature: %v", err)
	}
}

func TestKeyFilesAndRedaction(t *testing.T) {
	k, _ := GenerateKey()
	pemData, err := k.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "sbom.key")
	os.WriteFile(p, pemData, 0o600)
	k2, err := LoadPrivateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	if k2.Public().KeyID() != k.Public().KeyID() {
		t.Fatal("loaded key differs")
	}
	pub, _ := k.Public().MarshalPEM()
	if pk, err := ParsePublicKey(pub); err != nil || pk.KeyID() != k.Public().KeyID() {
		t.Fatalf("public key round trip: %v", err)
	}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %s", k, k, k)} {
		if strings.Contains(s, string(pemData[40:60])) || !strings.Contains(s, "redacted") {
			t.Errorf("key printed as %q", s)
		}
	}
	os.WriteFile(p, pub, 0o600)
	if _, err := LoadPrivateKey(p); err == nil {
		t.Error("a public key loaded as private key")
	}
}
