package integrity

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildDemoTree(t *testing.T) {
	dir := t.TempDir()
	o := DemoOptions{Dir: dir, Socket: "/run/test/local.sock", Listen: "127.0.0.1:9999", VitalsimBinary: "/bin/true"}
	tree, err := BuildDemoTree(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// A leftover from an earlier run (e.g. a tampering test) must not be
	// signed into the next demo tree.
	os.WriteFile(filepath.Join(tree.Root, "bin/leftover"), []byte("#!/bin/sh\n"), 0o755)
	tree, err = BuildDemoTree(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	v, err := OpenEnvelope(context.Background(), mustRead(t, tree.Manifest), []PublicKey{tree.TrustedKey}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Manifest.Lookup("bin/leftover"); ok {
		t.Fatal("a leftover file was signed into the demo tree")
	}
	e, ok := v.Manifest.Lookup("bin/vitalsim")
	if !ok || e.Kind != KindExecutable {
		t.Fatalf("bin/vitalsim: %+v", e)
	}
	progs := string(mustRead(t, filepath.Join(tree.Root, tree.Programs)))
	if !strings.Contains(progs, `"MEDGUARD_LOCAL_SOCKET=/run/test/local.sock"`) || !strings.Contains(progs, `"127.0.0.1:9999"`) {
		t.Fatalf("program list:\n%s", progs)
	}
	rep, err := Verify(context.Background(), tree.Root, v.Manifest, VerifyOptions{})
	if err != nil || len(rep.Findings) != 0 {
		t.Fatalf("demo tree does not verify: %v %+v", err, rep.Findings)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
