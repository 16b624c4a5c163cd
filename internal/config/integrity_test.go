package config

import (
	"errors"
	"strings"
	"testing"
)

func TestIntegrityRules(t *testing.T) {
	key := "medguard-ed25519:" + strings.Repeat("A", 43) + "="
	tests := []struct{ name, doc, key string }{
		{"relative root", "[integrity]\nsoftware_root = \"opt\"\n", "integrity.software_root"},
		{"root is /", "[integrity]\nsoftware_root = \"/\"\n", "integrity.software_root"},
		{"manifest inside root", "[integrity]\nsoftware_root = \"/opt/sw\"\nmanifest = \"/opt/sw/m.json\"\n", "integrity.manifest"},
		{"bad key", "[integrity]\ntrusted_keys = [\"ssh-ed25519 AAAA\"]\n", "integrity.trusted_keys"},
		{"threshold above keys", "[integrity]\ntrusted_keys = [\"" + key + "\"]\nthreshold = 2\n", "integrity.threshold"},
		{"threshold zero", "[integrity]\nthreshold = 0\n", "integrity.threshold"},
		{"programs escapes", "[integrity]\nprograms = \"../x\"\n", "integrity.programs"},
		{"budget too high", "[integrity]\nrehash_percent = 101.0\n", "integrity.rehash_percent"},
		{"workers", "[integrity]\nhash_workers = 65\n", "integrity.hash_workers"},
	}
	for _, tc := range tests {
		_, err := Parse("t.toml", []byte(tc.doc))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Key != tc.key {
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.key)
		}
	}
	c, err := Parse("t.toml", []byte("[integrity]\ntrusted_keys = [\""+key+"\"]\nrehash_percent = 0.5\n"))
	if err != nil || len(c.Integrity.TrustedKeys) != 1 || c.Integrity.RehashPercent != 0.5 {
		t.Fatalf("valid table: %+v, %v", c.Integrity, err)
	}
}
