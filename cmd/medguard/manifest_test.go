package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestManifestVerifyExitCodes pins the exit codes of ARCHITECTURE.md:
// 0 verified, 1 tampering or bad signature, 2 usage or I/O error.
func TestManifestVerifyExitCodes(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	os.WriteFile(filepath.Join(root, "bin/app"), []byte("#!/bin/sh\n"), 0o755)
	p := func(n string) string { return filepath.Join(dir, n) }
	e := &env{stdin: bytes.NewReader(nil), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{},
		getenv: func(k string) string {
			if k == "MEDGUARD_RELEASE_PASSPHRASE" {
				return "a-long-enough-passphrase"
			}
			return ""
		}}
	must := func(args ...string) {
		if code := run(context.Background(), e, args); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, e.stderr)
		}
	}
	must("release", "keygen", "--work-factor", "10", "--out", p("a.key"), "--pub", p("a.pub"))
	must("release", "keygen", "--work-factor", "10", "--out", p("b.key"), "--pub", p("b.pub"))
	must("release", "manifest", "--key", p("a.key"), "--product", "x", "--version", "1", "--security-version", "2", "--out", p("m.json"), root)

	tests := []struct {
		name string
		prep func()
		args []string
		code int
	}{
		{"verified", nil, []string{"--key", p("a.pub"), root, p("m.json")}, 0},
		{"other key", nil, []string{"--key", p("b.pub"), root, p("m.json")}, 1},
		{"threshold", nil, []string{"--key", p("a.pub"), "--key", p("b.pub"), "--threshold", "2", root, p("m.json")}, 1},
		{"rollback", nil, []string{"--key", p("a.pub"), "--min-security-version", "3", root, p("m.json")}, 1},
		{"missing manifest", nil, []string{"--key", p("a.pub"), root, p("nope.json")}, 2},
		{"no key", nil, []string{root, p("m.json")}, 2},
		{"bad flag", nil, []string{"--bogus", root, p("m.json")}, 2},
		{"corrupt envelope", func() { os.WriteFile(p("bad.json"), []byte("{not json"), 0o644) },
			[]string{"--key", p("a.pub"), root, p("bad.json")}, 1},
		{"tampered file", func() { os.WriteFile(filepath.Join(root, "bin/app"), []byte("#!/bin/sh\nid\n"), 0o755) },
			[]string{"--key", p("a.pub"), root, p("m.json")}, 1},
	}
	for _, tc := range tests {
		if tc.prep != nil {
			tc.prep()
		}
		if code := run(context.Background(), e, append([]string{"manifest", "verify"}, tc.args...)); code != tc.code {
			t.Errorf("%s: exit %d, want %d", tc.name, code, tc.code)
		}
	}
}
