// Package config defines medguard's configuration file: one TOML document,
// parsed strictly, whose every default is the most secure choice
// (ARCHITECTURE.md, principle 3).
//
// The document has one table per part of the device ([device], [keystore],
// …). Each table is a struct in this package, in a file of its own, whose
// fields carry a `doc` tag: that tag is the reference for the key (what it
// does, its default and its range) and is what --print-default-config
// prints. Each table validates itself; Load reports the first problem with
// the key's name and line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the whole configuration of medguardd.
type Config struct {
	Device     Device     `toml:"device" doc:"The device as a whole."`
	KeyStore   KeyStore   `toml:"keystore" doc:"Where the device's secrets are kept and how they are sealed."`
	Log        Log        `toml:"log" doc:"The Security Event Log: tamper-evident, forward-secure, with signed checkpoints."`
	Auth       Auth       `toml:"auth" doc:"Accounts, passwords, sessions, throttling of guessing and the setup code."`
	API        API        `toml:"api" doc:"The HTTPS API with the web console, and the local API for the clinical application."`
	Notify     Notify     `toml:"notify" doc:"Notifications with cause and recommended action: the clinical warnings, the admin inbox and its live stream."`
	Forward    Forward    `toml:"forward" doc:"Forwarding of the Security Event Log to the hospital's SIEMs: RFC 5424 over TLS (RFC 5425) or CEF, store and forward."`
	Integrity  Integrity  `toml:"integrity" doc:"Software integrity: the signed manifest of the software root, the maker's trusted keys, and the checks at boot and while running."`
	Disclosure Disclosure `toml:"disclosure" doc:"Coordinated vulnerability disclosure: whom researchers contact; served as /.well-known/security.txt (RFC 9116)."`
}

// Default returns the configuration with every default.
func Default() Config {
	return Config{
		Device:     defaultDevice(),
		KeyStore:   defaultKeyStore(),
		Log:        defaultLog(),
		Auth:       defaultAuth(),
		API:        defaultAPI(),
		Notify:     defaultNotify(),
		Forward:    defaultForward(),
		Integrity:  defaultIntegrity(),
		Disclosure: defaultDisclosure(),
	}
}

// validator is implemented by every table.
type validator interface {
	validate() []FieldError
}

// Validate checks every rule of every table and returns the first
// violation as a *FieldError.
func (c *Config) Validate() error {
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		if t, ok := v.Field(i).Addr().Interface().(validator); ok {
			if errs := t.validate(); len(errs) > 0 {
				return &errs[0]
			}
		}
	}
	return nil
}

// FieldError names a key of the configuration file and what is wrong with
// its value.
type FieldError struct {
	File string // the file, if known
	Line int    // 1-based; 0 if unknown
	Key  string // dotted key, e.g. "keystore.backend"
	Msg  string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s: %s", e.Key, e.Msg)
	return b.String()
}

// Load reads and validates the configuration file at path. Keys it does not
// set keep their defaults.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("read configuration: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Config{}, fmt.Errorf("read configuration %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a configuration document; name is used in
// error messages. An unknown key, a value of the wrong type and a value out
// of range are all errors that name the key and its line.
func Parse(name string, data []byte) (Config, error) {
	if err := checkLimits(name, data); err != nil {
		return Config{}, err
	}
	c := Default()
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c)
	if err != nil {
		if pe, ok := asParseError(err); ok {
			key := pe.LastKey
			if m := definedKey.FindStringSubmatch(pe.Message); key == "" && m != nil {
				key = m[1] // a table or key defined twice
			}
			if key == "" {
				key = "(document)"
			}
			return Config{}, &FieldError{File: name, Line: pe.Position.Line, Key: key, Msg: pe.Message}
		}
		if m := typeErr.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return Config{}, &FieldError{File: name, Line: line, Key: m[2], Msg: m[3]}
		}
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0].String()
		return Config{}, &FieldError{File: name, Line: lineOf(data, und[0]), Key: k, Msg: "unknown key"}
	}
	// The decoder matches keys to fields case-insensitively; TOML keys are
	// case-sensitive, and "NAME" beside "name" must not silently win.
	for _, k := range md.Keys() {
		if want, ok := exactKey(reflect.TypeFor[Config](), k); !ok {
			return Config{}, &FieldError{File: name, Line: lineOf(data, k), Key: k.String(), Msg: fmt.Sprintf("unknown key (keys are case-sensitive; did you mean %q?)", want)}
		}
	}
	if err := c.Validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			fe.File = name
			fe.Line = lineOf(data, strings.Split(fe.Key, "."))
		}
		return Config{}, err
	}
	return c, nil
}

// exactKey reports whether key names a field of t by its exact toml tag,
// through tables and arrays of tables; if not, it returns the key as the
// configuration spells it.
func exactKey(t reflect.Type, key toml.Key) (string, bool) {
	var want []string
	ok := true
	for _, part := range key {
		for t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return strings.Join(append(want, part), "."), false
		}
		var f reflect.StructField
		found := false
		for i := range t.NumField() {
			if tag := t.Field(i).Tag.Get("toml"); strings.EqualFold(tag, part) {
				f, found = t.Field(i), true
				ok = ok && tag == part
				break
			}
		}
		if !found {
			return strings.Join(append(want, part), "."), false
		}
		want = append(want, f.Tag.Get("toml"))
		t = f.Type
	}
	return strings.Join(want, "."), ok
}

// asParseError returns the decoder's syntax error, which it returns by
// value or by pointer.
func asParseError(err error) (toml.ParseError, bool) {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return pe, true
	}
	var pp *toml.ParseError
	if errors.As(err, &pp) && pp != nil {
		return *pp, true
	}
	return pe, false
}

// definedKey finds the key in the decoder's message about a key or table
// defined twice.
var definedKey = regexp.MustCompile(`^Key '([^']+)' has already been defined`)

// typeErr matches the type errors of the TOML decoder, which are not
// ParseErrors.
var typeErr = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// lineOf finds the line on which key is set in a TOML document, by
// following table headers. A key the document leaves out (a required key
// that is missing) gets the line of its table's header. 0 if it cannot
// tell (e.g. inline tables).
func lineOf(data []byte, key []string) int {
	if len(key) == 0 {
		return 0
	}
	table, header := "", 0
	want := strings.Join(key[:len(key)-1], ".")
	last := key[len(key)-1]
	for i, line := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "[") {
			table = strings.Trim(strings.TrimSpace(strings.SplitN(l, "#", 2)[0]), "[] ")
			if table == strings.Join(key, ".") {
				return i + 1 // an unknown table
			}
			if table == want && header == 0 {
				header = i + 1
			}
			continue
		}
		k, _, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		k = strings.Trim(strings.TrimSpace(k), `"'`)
		if table == want && k == last {
			return i + 1
		}
		if table == "" && k == strings.Join(key, ".") {
			return i + 1
		}
	}
	return header
}

// Duration is a length of time written as a string ("15m", "1h30m"). A bare
// number is refused, so that "15" cannot silently mean 15 nanoseconds.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration (want e.g. \"15m\", \"30s\"): %q", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// inRange returns a FieldError if v is outside [lo, hi].
func inRange[T int | int64 | uint64 | float64 | Duration](key string, v, lo, hi T) []FieldError {
	if v < lo || v > hi {
		return []FieldError{{Key: key, Msg: fmt.Sprintf("%v is out of range [%v, %v]", show(v), show(lo), show(hi))}}
	}
	return nil
}

func show(v any) any {
	if d, ok := v.(Duration); ok {
		return d.D()
	}
	return v
}

// oneOf returns a FieldError if v is not one of allowed.
func oneOf(key, v string, allowed ...string) []FieldError {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return []FieldError{{Key: key, Msg: fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))}}
}
