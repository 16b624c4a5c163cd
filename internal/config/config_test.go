package config

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestDefaultIsValidAndRoundTrips(t *testing.T) {
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("Default() invalid: %v", err)
	}
	var b bytes.Buffer
	if err := WriteDocumented(&b, d); err != nil {
		t.Fatal(err)
	}
	got, err := Parse("default.toml", b.Bytes())
	if err != nil {
		t.Fatalf("printed defaults do not parse: %v\n%s", err, b.String())
	}
	var b2 bytes.Buffer
	WriteDocumented(&b2, got)
	if b.String() != b2.String() {
		t.Fatal("printed defaults do not round-trip")
	}
	for _, want := range []string{"[device]", "[keystore]", "# The device's name"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("printed defaults lack %q", want)
		}
	}
}

func TestEveryKeyDocumented(t *testing.T) {
	var b bytes.Buffer
	WriteDocumented(&b, Default())
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if i == 0 || !strings.HasPrefix(lines[i-1], "#") {
			t.Errorf("line %d %q has no documentation", i+1, l)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc, key string
		line           int
	}{
		{"unknown key", "[device]\nname = \"x\"\nbogus = 1\n", "device.bogus", 3},
		{"unknown table", "[nope]\na = 1\n", "nope", 1},
		{"wrong type", "[device]\n\nname = 5\n", "device.name", 3},
		{"bad device name", "[device]\nname = \"has space\"\n", "device.name", 2},
		{"relative state dir", "[device]\nstate_dir = \"var/lib\"\n", "device.state_dir", 2},
		{"unknown backend", "[keystore]\nbackend = \"none\"\n", "keystore.backend", 2},
		{"pcr out of range", "[keystore]\n\ntpm_pcrs = [7, 24]\n", "keystore.tpm_pcrs", 3},
		{"sealed-file needs kek", "[device]\n\n[keystore]\nbackend = \"sealed-file\"\n", "keystore.kek_file", 3},
		{"syntax", "[device\nname = 1\n", "", 2},
		{"table twice", "[device]\nname = \"a\"\n\n[device]\n", "device", 4},
		{"key twice", "[device]\nname = \"a\"\nname = \"b\"\n", "device.name", 3},
		{"wrong type in array", "[keystore]\ntpm_pcrs = [\"7\"]\n", "keystore.tpm_pcrs", 2},
		{"bare number as duration", "[log]\n\nepoch_interval = 15\n", "log.epoch_interval", 3},
		{"not UTF-8", "[device]\nname = \"a\xffb\"\n", "device.name", 2},
		{"key in other case", "[device]\nname = \"a\"\nNAME = \"b\"\n", "device.NAME", 3},
		{"table in other case", "[KeyStore]\nbackend = \"tpm\"\n", "KeyStore", 1},
		{"nested too deep", "[device]\n\nname = " + strings.Repeat("{a = ", 5000) + "\n", "(document)", 3},
		{"nesting in strings is not counted, the wrong type is", "[device]\nname = \"" + strings.Repeat("[{", 50) + "\"\nstate_dir = 1\n", "device.state_dir", 3},
		{"too large", "[device]\n" + strings.Repeat("# padding\n", MaxFileSize/10+1), "(document)", 0},
		{"UTF-16 file", "\xff\xfe[\x00d\x00]\x00\n\x00", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("m.toml", []byte(tt.doc))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FieldError", err)
			}
			if tt.key != "" && fe.Key != tt.key {
				t.Errorf("key = %q, want %q (%v)", fe.Key, tt.key, err)
			}
			if tt.line != 0 && fe.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", fe.Line, tt.line, err)
			}
			if !strings.HasPrefix(err.Error(), "m.toml") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestDurationRefusesBareNumber(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("15")); err == nil {
		t.Fatal("bare number accepted as a duration")
	}
	if err := d.UnmarshalText([]byte("15m")); err != nil || d.D().Minutes() != 15 {
		t.Fatalf("15m = %v, %v", d.D(), err)
	}
}

func FuzzParse(f *testing.F) {
	var b bytes.Buffer
	WriteDocumented(&b, Default())
	f.Add(b.Bytes())
	f.Add([]byte("[device]\nname = \"x\"\n"))
	f.Add([]byte("[keystore]\ntpm_pcrs = [1,2,3]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.toml", data)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Parse accepted an invalid configuration: %v", verr)
			}
		}
	})
}
