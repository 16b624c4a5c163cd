package config

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// WriteDocumented writes c as a TOML document in which every table and key
// is preceded by its documentation. Written from Default(), it is the
// reference of the configuration file (--print-default-config).
func WriteDocumented(w io.Writer, c Config) error {
	var b bytes.Buffer
	b.WriteString("# medguardd configuration. Every value shown is the default, which is the\n# most secure setting; a key left out keeps its default.\n")
	v := reflect.ValueOf(c)
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		fmt.Fprintf(&b, "\n%s[%s]\n", comment(f.Tag.Get("doc"), ""), f.Tag.Get("toml"))
		sv, st := v.Field(i), f.Type
		for j := range st.NumField() {
			sf := st.Field(j)
			val, err := tomlValue(sv.Field(j).Interface())
			if err != nil {
				return fmt.Errorf("print %s.%s: %w", f.Tag.Get("toml"), sf.Tag.Get("toml"), err)
			}
			fmt.Fprintf(&b, "%s%s = %s\n", comment(sf.Tag.Get("doc"), ""), sf.Tag.Get("toml"), val)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// tomlValue renders one value in TOML syntax.
func tomlValue(v any) (string, error) {
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(map[string]any{"v": v}); err != nil {
		return "", err
	}
	s := strings.TrimSpace(b.String())
	return strings.TrimSpace(strings.TrimPrefix(s, "v =")), nil
}

// comment wraps doc at 76 columns as TOML comment lines.
func comment(doc, indent string) string {
	if doc == "" {
		return ""
	}
	var b strings.Builder
	line := indent + "#"
	for _, w := range strings.Fields(doc) {
		if len(line)+1+len(w) > 78 {
			b.WriteString(line + "\n")
			line = indent + "#"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
	return b.String()
}
