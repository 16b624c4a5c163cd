// Package testenv decides whether integration tests run. They need real
// parts (swtpm, rsyslog, chromium, network namespaces). Without
// MEDGUARD_INTEGRATION=1 an integration test whose part is missing is
// skipped with a message saying what to install; with it, a missing part
// is a failure, so that CI cannot pass by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether integration tests are required
// (MEDGUARD_INTEGRATION=1).
func Required() bool { return os.Getenv("MEDGUARD_INTEGRATION") == "1" }

// Integration marks t as an integration test. In short mode it is skipped.
func Integration(t testing.TB) {
	t.Helper()
	if testing.Short() && !Required() {
		t.Skip("integration test: skipped in -short mode")
	}
}

// Tool returns the path of the program name, which the Debian package pkg
// provides. If it is missing, t is skipped (or fails, when integration tests
// are required) with a message naming the package to install.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	Integration(t)
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	Missing(t, name+" not found in PATH; install it with: apt-get install "+pkg+" (or run make check, which does)")
	return ""
}

// Root skips (or fails, when required) unless the test runs as root.
func Root(t testing.TB, why string) {
	t.Helper()
	Integration(t)
	if os.Geteuid() != 0 {
		Missing(t, "needs root: "+why)
	}
}

// Missing skips t, or fails it when integration tests are required.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("MEDGUARD_INTEGRATION=1 but %s", msg)
	}
	t.Skip(msg)
}
