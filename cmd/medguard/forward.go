package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/medguard/medguard/internal/forward"
	"github.com/medguard/medguard/internal/keystore"
)

// "medguard log verify-forwarded" is the hospital side of SIEM forwarding
// (docs/forwarding.md): it checks what the SIEM's syslog receiver wrote.

func init() {
	register(&command{
		name:    "log verify-forwarded",
		summary: "verify what a SIEM received from one or many devices: authentic, complete, checkpoints consistent (exit 1 on damage)",
		usage:   "medguard log verify-forwarded [--json] [--skip-unkeyed] [--passphrase-file FILE] --key FILE [--key FILE …] FILE… (- for standard input)",
		example: "medguard log verify-forwarded --key icu-monitor-7.verifier.age /var/log/siem/medguard.log\n" +
			"medguard log verify-forwarded --json --passphrase-file pass.txt --key m7.age --key m8.age relay-a.log relay-b.log",
		run: runVerifyForwarded,
	})
}

type keyFiles []string

func (k *keyFiles) String() string     { return strings.Join(*k, ",") }
func (k *keyFiles) Set(v string) error { *k = append(*k, v); return nil }

func runVerifyForwarded(ctx context.Context, e *env, args []string) error {
	fs := newFlags("log verify-forwarded")
	var keys keyFiles
	fs.Var(&keys, "key", "a device's verifier key `FILE` from medguard keys export-log-verifier (repeat for each device)")
	passFile := fs.String("passphrase-file", "", "read the verifier keys' passphrase from the first line of `FILE` instead of standard input")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	skipUnkeyed := fs.Bool("skip-unkeyed", false, "ignore messages of devices for which no --key is given, instead of failing")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return usagef("give at least one --key FILE")
	}
	if len(files) == 0 {
		return usagef("give the files the SIEM's receiver wrote (- for standard input)")
	}
	dk, err := readDeviceKeys(e, keys, *passFile)
	if err != nil {
		return err
	}
	v := forward.NewVerifier(dk)
	for _, k := range dk {
		clear(k.RootKey)
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := feedFile(e, v, f); err != nil {
			return err
		}
	}
	res := v.Finish()
	if *asJSON {
		if err := writeJSON(e.stdout, res); err != nil {
			return err
		}
	} else {
		printForwardedReport(e.stdout, &res)
	}
	if !res.OK {
		return tampered("%s", firstForwardedDamage(&res))
	}
	if len(res.Unkeyed) > 0 && !*skipUnkeyed {
		return fmt.Errorf("messages of devices without a key were not verified: %s (give --key for them, or --skip-unkeyed)", unkeyedList(res.Unkeyed))
	}
	return nil
}

// readDeviceKeys opens every verifier file with one passphrase.
func readDeviceKeys(e *env, files []string, passFile string) ([]forward.DeviceKey, error) {
	pass, err := readPassphrase(e, passFile, false)
	if err != nil {
		return nil, err
	}
	defer clear(pass)
	var out []forward.DeviceKey
	seen := map[string]string{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read verifier key: %w", err)
		}
		v, err := keystore.ReadLogVerifier(f, pass)
		f.Close()
		if err != nil {
			return nil, keysError(fmt.Errorf("verifier key %s: %w", name, err))
		}
		if other, dup := seen[v.DeviceName]; dup {
			v.Zero()
			return nil, fmt.Errorf("verifier keys %s and %s are both for device %s", other, name, v.DeviceName)
		}
		seen[v.DeviceName] = name
		out = append(out, forward.DeviceKey{Device: v.DeviceName, RootKey: append([]byte(nil), v.RootKey.Bytes()...), Public: v.DevicePublicKey})
		v.Zero()
	}
	return out, nil
}

// maxLine bounds a line of a receiver's file: a message and what a
// receiver's template adds.
const maxLine = forward.MaxMessageSize + 4096

// feedFile adds every line of a receiver's file ("-": standard input).
func feedFile(e *env, v *forward.Verifier, name string) error {
	var r io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("verify forwarded messages: %w", err)
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := readLine(br)
		if errors.Is(err, errLongLine) {
			v.AddError(name, n, fmt.Errorf("line longer than %d bytes", maxLine))
			continue
		}
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				v.AddLine(name, n, line)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("verify forwarded messages: read %s: %w", name, err)
		}
		v.AddLine(name, n, line)
	}
}

var errLongLine = errors.New("line too long")

// readLine returns the next line without its newline; a line longer than
// maxLine is skipped and reported as errLongLine.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > maxLine {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return nil, errLongLine
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return line, err
		}
		return line[:len(line)-1], nil
	}
}

func printForwardedReport(w io.Writer, res *forward.Result) {
	for _, d := range res.Devices {
		if d.OK {
			fmt.Fprintf(w, "%s: OK: entries %d to %d, %d messages (%d identical resends), %d checkpoints verified\n",
				d.Device, d.FirstSeq, d.LastSeq, d.Messages, d.Duplicates, d.Checkpoints)
		} else {
			fmt.Fprintf(w, "%s: DAMAGED: %d messages\n", d.Device, d.Messages)
			for _, dm := range d.Damage {
				fmt.Fprintf(w, "  %s at entry %d: %s\n", dm.Kind, dm.Seq, dm.Detail)
			}
			if len(d.Damage) == 0 && d.First != nil {
				fmt.Fprintf(w, "  %s: %s\n", d.First.Kind, d.First.Detail)
			}
		}
		for _, l := range d.Limits {
			fmt.Fprintf(w, "  limit: %s\n", l)
		}
	}
	for _, m := range res.Malformed {
		fmt.Fprintf(w, "%s:%d: not a valid medguard message: %s\n", m.File, m.Line, m.Err)
	}
	if len(res.Unkeyed) > 0 {
		fmt.Fprintf(w, "not verified (no key): %s\n", unkeyedList(res.Unkeyed))
	}
	if res.Foreign > 0 {
		fmt.Fprintf(w, "skipped %d lines of other programs\n", res.Foreign)
	}
}

func firstForwardedDamage(res *forward.Result) string {
	for _, d := range res.Devices {
		if !d.OK && d.First != nil {
			return fmt.Sprintf("device %s: %s at entry %d: %s", d.Device, d.First.Kind, d.First.Seq, d.First.Detail)
		}
	}
	if len(res.Malformed) > 0 {
		m := res.Malformed[0]
		return fmt.Sprintf("%s:%d: not a valid medguard message: %s", m.File, m.Line, m.Err)
	}
	return "verification failed"
}

func unkeyedList(m map[string]int) string {
	var s []string
	for d, n := range m {
		s = append(s, fmt.Sprintf("%s (%d messages)", d, n))
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
