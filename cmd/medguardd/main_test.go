package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrintDefaultConfigIsValid(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--print-default-config"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	p := filepath.Join(t.TempDir(), "m.toml")
	os.WriteFile(p, out.Bytes(), 0o600)
	out.Reset()
	if code := run([]string{"--check-config", "--config", p}, &out, &errb); code != 0 {
		t.Fatalf("printed defaults do not check: exit %d: %s", code, errb.String())
	}
}

func TestCheckConfigNamesKeyAndLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.toml")
	os.WriteFile(p, []byte("[device]\nname = \"ok\"\n\n[keystore]\nbackend = \"plaintext\"\n"), 0o600)
	var out, errb bytes.Buffer
	code := run([]string{"--check-config", "--config", p}, &out, &errb)
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	want := p + ":5: keystore.backend:"
	if !strings.Contains(errb.String(), want) {
		t.Fatalf("stderr %q lacks %q", errb.String(), want)
	}
}

func TestUnreadableConfig(t *testing.T) {
	var out, errb bytes.Buffer
	p := filepath.Join(t.TempDir(), "missing.toml")
	if code := run([]string{"--config", p}, &out, &errb); code != 2 || !strings.Contains(errb.String(), p) {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

func TestHelpHasExample(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--help"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "Examples:") || !strings.Contains(errb.String(), "--demo") {
		t.Fatalf("help lacks examples:\n%s", errb.String())
	}
}
