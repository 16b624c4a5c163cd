package keystore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSecretRedacts: no way of printing or logging a Secret reveals it.
func TestSecretRedacts(t *testing.T) {
	value := "s3cr3t-value-0123456789"
	s := NewSecret([]byte(value))
	hexed := fmt.Sprintf("%x", value)
	var out bytes.Buffer
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		fmt.Fprintf(&out, f+"\n", s)
	}
	fmt.Fprintln(&out, s, *s)
	fmt.Fprintf(&out, "%v %+v\n", struct{ K *Secret }{s}, &struct{ K *Secret }{s})
	slog.New(slog.NewTextHandler(&out, nil)).Info("msg", "key", s, "group", slog.GroupValue(slog.Any("k", s)))
	slog.New(slog.NewJSONHandler(&out, nil)).Info("msg", "key", s)
	if j, err := json.Marshal(struct{ K *Secret }{s}); err == nil {
		out.Write(j)
	}
	got := out.String()
	if strings.Contains(got, value) || strings.Contains(strings.ToLower(got), hexed) || strings.Contains(got, "115 51 99") {
		t.Fatalf("secret leaked in output:\n%s", got)
	}
	if !strings.Contains(got, "REDACTED") {
		t.Fatalf("output lacks the redaction marker:\n%s", got)
	}
}

func TestSecretZero(t *testing.T) {
	b := []byte("0123456789abcdef")
	s := NewSecret(b)
	s.Zero()
	if !bytes.Equal(b, make([]byte, 16)) || s.Len() != 0 {
		t.Fatalf("Zero left %q", b)
	}
	s.Zero()
	var nilSecret *Secret
	nilSecret.Zero()
}

func TestSecretEqual(t *testing.T) {
	a, b, c := NewSecret([]byte("abc")), NewSecret([]byte("abc")), NewSecret([]byte("abd"))
	if !a.Equal(b) || a.Equal(c) || a.Equal(NewSecret([]byte("ab"))) {
		t.Fatal("Equal is wrong")
	}
	d := a.Clone()
	a.Zero()
	if !d.Equal(b) {
		t.Fatal("Clone shares storage")
	}
}
