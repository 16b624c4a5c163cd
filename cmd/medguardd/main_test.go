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

// TestUnreadableConfig: a configuration that cannot be read or parsed
// stops the daemon before anything is opened, with one message naming the
// file and the reason, and nothing is written to the state directory.
func TestUnreadableConfig(t *testing.T) {
	dir := t.TempDir()
	garbled := filepath.Join(dir, "garbled.toml")
	os.WriteFile(garbled, []byte("[device\nname = \"x\"\n"), 0o600)
	utf16 := filepath.Join(dir, "utf16.toml")
	os.WriteFile(utf16, []byte("\xff\xfe[\x00d\x00]\x00\n\x00"), 0o600)
	tests := []struct{ name, path, reason string }{
		{"missing", filepath.Join(dir, "missing.toml"), "no such file"},
		{"a directory", dir, "is a directory"},
		{"not TOML", garbled, "end table name"},
		{"UTF-16", utf16, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state")
			os.Mkdir(state, 0o700)
			var out, errb bytes.Buffer
			code := run([]string{"--config", tt.path, "--state-dir", state}, &out, &errb)
			msg := errb.String()
			if code != 2 || !strings.Contains(msg, tt.path) || !strings.Contains(msg, tt.reason) {
				t.Fatalf("exit %d, stderr %q; want 2 and a message naming %s and %q", code, msg, tt.path, tt.reason)
			}
			if n := strings.Count(msg, "\n"); n != 1 {
				t.Errorf("%d lines on stderr, want one message:\n%s", n, msg)
			}
			if ents, _ := os.ReadDir(state); len(ents) != 0 {
				t.Errorf("a refused configuration wrote %d entries into the state directory", len(ents))
			}
		})
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

// TestRelativeStateDir: --state-dir is taken relative to the working
// directory, like every other path given on the command line.
func TestRelativeStateDir(t *testing.T) {
	t.Chdir(t.TempDir())
	os.WriteFile("m.toml", []byte("[device]\nname = \"dev-1\"\n"), 0o600)
	var out, errb bytes.Buffer
	if code := run([]string{"--check-config", "--config", "m.toml", "--state-dir", "state"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}
