package integrity

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"
)

func seedManifest() *Manifest {
	return &Manifest{Schema: ManifestSchema, Product: "demo", Version: "1", SecurityVersion: 3,
		Created: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
		Files: []Entry{
			{Path: "bin/app", Kind: KindExecutable, Size: 3, Mode: 0o755, SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
			{Path: "lib/a.so", Kind: KindSymlink, Mode: 0o777, Target: "a.so.1"},
		}}
}

// FuzzParseManifest: the parser never panics, and what it accepts
// re-marshals to a manifest that parses to the same thing.
func FuzzParseManifest(f *testing.F) {
	b, _ := seedManifest().Marshal()
	f.Add(b)
	f.Add([]byte(`{"schema":"medguard.manifest/v1","product":"p","version":"v","files":[{"path":"../x","kind":"data","sha256":""}]}`))
	f.Add([]byte(`{"schema":"medguard.manifest/v1","product":"p","version":"v","files":[{"path":"a","kind":"symlink","target":"/etc/passwd"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		for _, e := range m.Files {
			if checkRelPath(e.Path) != nil || (e.Kind == KindSymlink && !linkStaysInside(e.Path, e.Target)) {
				t.Fatalf("accepted a path that escapes: %+v", e)
			}
		}
		again, err := m.Marshal()
		if err != nil {
			t.Fatalf("accepted manifest does not marshal: %v", err)
		}
		m2, err := ParseManifest(again)
		if err != nil {
			t.Fatalf("re-marshalled manifest does not parse: %v", err)
		}
		a, _ := json.Marshal(m)
		b, _ := json.Marshal(m2)
		if !bytes.Equal(a, b) {
			t.Fatalf("round trip changed the manifest:\n%s\n%s", a, b)
		}
	})
}

// FuzzOpenEnvelope: hostile envelopes never panic, and nothing but the
// exact signed payload is accepted.
func FuzzOpenEnvelope(f *testing.F) {
	key, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	env, err := Sign(context.Background(), seedManifest(), key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(env)
	f.Add([]byte(`{"payloadType":"application/vnd.medguard.manifest+json","payload":"e30=","signatures":[{"keyid":"","sig":"AAAA"}]}`))
	f.Add([]byte(`{"payloadType":"x","payload":"","signatures":[]}`))
	trusted := []PublicKey{key.PublicKey()}
	want, _ := seedManifest().Marshal()
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := OpenEnvelope(context.Background(), data, trusted, 1)
		if err != nil {
			if !IsSecurity(err) {
				t.Fatalf("a bad envelope gave a non-security error: %v", err)
			}
			return
		}
		got, _ := v.Manifest.Marshal()
		if !bytes.Equal(got, want) {
			t.Fatalf("accepted a manifest that was not signed:\n%s", got)
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	k, _ := GenerateKey()
	f.Add(k.PublicKey().String())
	f.Add("medguard-ed25519:AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePublicKey(s)
		if err != nil {
			return
		}
		q, err := ParsePublicKey(p.String())
		if err != nil || !q.Equal(p) {
			t.Fatalf("public key does not round-trip: %q", s)
		}
	})
}

// FuzzParseKeyBody: the decrypted content of a private key file never
// panics the parser, and what it accepts is the key it names.
func FuzzParseKeyBody(f *testing.F) {
	f.Add([]byte(privateHeader + "\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"))
	f.Add([]byte(privateHeader + "\nAAAA\n"))
	f.Add([]byte("age-encryption.org/v1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := parseKeyBody(data)
		if err != nil {
			return
		}
		sig, err := k.Sign(context.Background(), []byte("pae"))
		if err != nil || !ed25519.Verify(k.PublicKey().k, SignedMessage([]byte("pae")), sig) {
			t.Fatalf("accepted key does not sign: %v", err)
		}
	})
}
