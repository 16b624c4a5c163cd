package integrity

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/medguard/medguard/internal/testenv"
)

// softhsm sets up a fresh softhsm2 token and returns the module path.
func softhsm(t *testing.T) (module string) {
	t.Helper()
	testenv.Tool(t, "pkcs11-tool", "opensc")
	util := testenv.Tool(t, "softhsm2-util", "softhsm2")
	module = "/usr/lib/softhsm/libsofthsm2.so"
	if _, err := os.Stat(module); err != nil {
		testenv.Missing(t, "softhsm2 module not found; install it with: apt-get install softhsm2")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	os.MkdirAll(filepath.Join(dir, "tokens"), 0o700)
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\n"), 0o600)
	t.Setenv("SOFTHSM2_CONF", conf)
	out, err := exec.Command(util, "--init-token", "--free", "--label", "release", "--pin", "test-pin-1", "--so-pin", "test-so-pin-1").CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util: %v: %s", err, out)
	}
	return module
}

// TestPKCS11SignerWithSoftHSM signs a manifest with a key that lives in a
// (software) HSM and verifies it; a wrong PIN is refused.
func TestPKCS11SignerWithSoftHSM(t *testing.T) {
	module := softhsm(t)
	ctx := context.Background()
	k, err := GeneratePKCS11Key(ctx, PKCS11Key{Module: module, Token: "release", ID: "01", PIN: "test-pin-1"}, "release-key")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	f.sign(t, 5, k)
	rep, err := f.checker(t, 1, k.PublicKey()).VerifyBoot(ctx)
	if err != nil || len(rep.Signers) != 1 || rep.Signers[0] != k.PublicKey().ID() {
		t.Fatalf("HSM-signed manifest: %v %v", rep.Signers, err)
	}
	bad, err := OpenPKCS11Key(ctx, PKCS11Key{Module: module, Token: "release", ID: "01", PIN: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Sign(ctx, []byte("x")); err == nil {
		t.Fatal("signed with a wrong PIN")
	}
}
