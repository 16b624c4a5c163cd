package integrity

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// asNobodyEnv carries the fixture to the copy of the test that runs as an
// unprivileged user (root reads every directory whatever its mode).
const asNobodyEnv = "MEDGUARD_TEST_UNREADABLE_DIR"

// TestUnreadablePathIsCritical: a directory planted in the software root
// that the (unprivileged) checker cannot read could hold anything; it is a
// critical finding with its path, not a silently skipped walk, at boot and
// in the continuous re-hash alike.
func TestUnreadablePathIsCritical(t *testing.T) {
	if dir := os.Getenv(asNobodyEnv); dir != "" {
		checkUnreadable(t, dir)
		return
	}
	base, err := os.MkdirTemp("", "medguard-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	root := filepath.Join(base, "root")
	write(t, filepath.Join(root, "bin/app"), "#!/bin/sh\n", 0o755)
	m, err := Build(context.Background(), root, BuildOptions{Product: "t", Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	body, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(base, "manifest.json"), string(body), 0o644)
	write(t, filepath.Join(root, "hidden/tool"), "#!/bin/sh\nid\n", 0o755)
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		chmod(t, filepath.Join(root, "hidden"), 0o000) // unreadable to ourselves
		t.Cleanup(func() { os.Chmod(filepath.Join(root, "hidden"), 0o755) })
		checkUnreadable(t, base)
		return
	}
	chmod(t, filepath.Join(root, "hidden"), 0o700) // root's, unreadable to nobody
	// The test binary's own directory is private to root: run a copy.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, self, filepath.Join(base, "integrity.test"), 0o755)
	cmd := exec.Command(filepath.Join(base, "integrity.test"), "-test.run", "^TestUnreadablePathIsCritical$", "-test.count", "1", "-test.v")
	cmd.Env = append(os.Environ(), asNobodyEnv+"="+base)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, NoSetGroups: true}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestUnreadablePathIsCritical") {
		t.Fatalf("check as an unprivileged user: %v\n%s", err, out)
	}
}

func checkUnreadable(t *testing.T, base string) {
	root := filepath.Join(base, "root")
	data, err := os.ReadFile(filepath.Join(base, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), root, m, VerifyOptions{})
	if err != nil {
		t.Fatalf("Verify = %v, want a report with a finding", err)
	}
	f, bad := rep.FirstCritical()
	if !bad || f.Kind != FindingUnreadable || f.Path != "hidden" {
		t.Fatalf("findings %+v, want path.unreadable for hidden", rep.Findings)
	}
	if f.Code() != "integrity.path.unreadable" {
		t.Fatalf("code %s", f.Code())
	}
}
