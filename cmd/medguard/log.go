package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/keystore"
)

// The "log" commands read and verify the Security Event Log: on the device
// (--state-dir/--config, with the key store) or offline on a copy of the
// log directory (with the verifier key exported by
// "medguard keys export-log-verifier"). See docs/eventlog.md.

func init() {
	register(&command{
		name:    "log verify",
		summary: "verify the security event log: MACs, chain, checkpoints, truncation (exit 1 on damage)",
		usage:   "medguard log verify [--json] [--checkpoint FILE] (--key FILE [--passphrase-file FILE] LOGDIR | [--config FILE] --state-dir DIR)",
		example: "medguard log verify --key monitor-7.verifier.age --checkpoint siem-checkpoint.txt ./log\n" +
			"medguard log verify --config /etc/medguard/medguard.toml --json",
		run: runLogVerify,
	})
	register(&command{
		name:    "log show",
		summary: "show events, newest first, filtered by sequence, time, category, severity, actor",
		usage:   "medguard log show [--json] [--from SEQ] [--to SEQ] [--since TIME] [--until TIME] [--category CAT] [--severity SEV] [--actor NAME] [--limit N] [--cursor C] (LOGDIR | [--config FILE] --state-dir DIR)",
		example: "medguard log show --state-dir /var/lib/medguard --category auth --severity warning --limit 20",
		run:     runLogShow,
	})
	register(&command{
		name:    "log export",
		summary: "export events, oldest first, as JSON lines (the stored records) or RFC 5424 syslog messages",
		usage:   "medguard log export [--format jsonl|rfc5424] [--from SEQ] [--to SEQ] [--host NAME] (LOGDIR | [--config FILE] --state-dir DIR)",
		example: "medguard log export --format rfc5424 --host monitor-7 ./log > monitor-7.syslog",
		run:     runLogExport,
	})
	register(&command{
		name:    "log prove",
		summary: "print an inclusion proof of one event in a signed checkpoint",
		usage:   "medguard log prove [--json] [--checkpoint FILE] (LOGDIR | [--config FILE] --state-dir DIR) SEQ",
		example: "medguard log prove --checkpoint siem-checkpoint.txt --json ./log 4711",
		run:     runLogProve,
	})
	register(&command{
		name:    "log checkpoint",
		summary: "print the newest signed checkpoint of the log (keep it to detect later truncation)",
		usage:   "medguard log checkpoint (LOGDIR | [--config FILE] --state-dir DIR)",
		example: "medguard log checkpoint --state-dir /var/lib/medguard > checkpoint-$(date +%F).txt",
		run:     runLogCheckpoint,
	})
}

// logDirFlags find the log: a directory argument, or the state directory
// (from --state-dir or the configuration file).
type logDirFlags struct{ sf storeFlags }

func (f *logDirFlags) register(fs *flag.FlagSet) { f.sf.register(fs) }

func (f *logDirFlags) onDevice() bool { return f.sf.stateDir != "" || f.sf.configFile != "" }

// dir returns the log directory from the flags or the first positional
// argument, and the remaining arguments.
func (f *logDirFlags) dir(pos []string) (string, []string, error) {
	if f.onDevice() {
		cfg, err := f.sf.load()
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(cfg.Device.StateDir, "log"), pos, nil
	}
	if len(pos) == 0 {
		return "", nil, usagef("name the log directory, or --state-dir")
	}
	return pos[0], pos[1:], nil
}

func runLogVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags("log verify")
	var lf logDirFlags
	lf.register(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cpFile := fs.String("checkpoint", "", "a signed checkpoint `FILE` from outside the device (SIEM, earlier copy): the log must contain everything it covers")
	keyFile := fs.String("key", "", "the verifier key `FILE` from medguard keys export-log-verifier (offline verification)")
	passFile := fs.String("passphrase-file", "", "read the verifier key's passphrase from the first line of `FILE` instead of standard input")
	workers := fs.Int("workers", 0, "MAC-checking goroutines (default: one per CPU)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if (*keyFile != "") == lf.onDevice() {
		return usagef("give either --key FILE LOGDIR (offline) or --state-dir/--config (on the device)")
	}
	dir, rest, err := lf.dir(pos)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	opts := eventlog.VerifyOptions{Workers: *workers}
	var limits []string
	if *keyFile != "" {
		err = logOfflineKeys(e, *keyFile, *passFile, &opts)
	} else {
		limits, err = logDeviceKeys(&lf, &opts)
	}
	if err != nil {
		return keysError(err)
	}
	defer clear(opts.RootKey)
	defer clear(opts.EpochKey)
	if *cpFile != "" {
		if opts.Checkpoint, err = logReadFile(*cpFile, 64<<10); err != nil {
			return err
		}
	}
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("verify event log: %w", err)
	}
	progress, stop := terminalProgress(e, "verifying")
	opts.Progress = progress
	rep, err := eventlog.VerifyDir(ctx, dir, opts)
	stop()
	if err != nil {
		return err
	}
	rep.Limits = append(limits, rep.Limits...)
	if *asJSON {
		if err := writeJSON(e.stdout, struct {
			Log string `json:"log"`
			eventlog.Report
		}{dir, rep}); err != nil {
			return err
		}
	} else {
		printLogReport(e.stdout, dir, &rep)
	}
	if !rep.OK {
		return tampered("event log %s: %s at record %d: %s", dir, rep.First.Kind, rep.First.Seq, rep.First.Detail)
	}
	return nil
}

// logOfflineKeys reads the exported verifier key.
func logOfflineKeys(e *env, keyFile, passFile string, o *eventlog.VerifyOptions) error {
	v, err := readVerifierFile(e, keyFile, passFile)
	if err != nil {
		return err
	}
	defer v.Zero()
	o.RootKey = append([]byte(nil), v.RootKey.Bytes()...)
	o.DevicePublicKey = v.DevicePublicKey
	return nil
}

// readVerifierFile opens the exported log verifier file, then reads its
// passphrase (from passFile, or asked for) and decrypts it. The caller
// zeroes the result.
func readVerifierFile(e *env, file, passFile string) (*keystore.LogVerifier, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read verifier key: %w", err)
	}
	defer f.Close()
	pass, err := readPassphrase(e, passFile, false)
	if err != nil {
		return nil, err
	}
	defer clear(pass)
	v, err := keystore.ReadLogVerifier(f, pass)
	if err != nil {
		return nil, fmt.Errorf("verifier key %s: %w", file, err)
	}
	return v, nil
}

// logDeviceKeys takes what the device's key store holds: the root key while it
// has not been erased, else only the current epoch's key; the identity's
// public key; the sealed head of the log. It returns what that cannot prove.
func logDeviceKeys(lf *logDirFlags, o *eventlog.VerifyOptions) ([]string, error) {
	s, _, err := lf.sf.open()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if o.DevicePublicKey, err = s.IdentityPublic(); err != nil {
		return nil, fmt.Errorf("verify event log: identity key: %w", err)
	}
	st, err := eventlog.LoadState(s)
	if err != nil {
		return nil, fmt.Errorf("verify event log: %w", err)
	}
	o.Head = st
	root, err := s.Secret(keystore.ItemLogRootKey)
	switch {
	case err == nil:
		o.RootKey = append([]byte(nil), root.Bytes()...)
		root.Zero()
		return nil, nil
	case errors.Is(err, keystore.ErrNotFound):
		o.EpochKey, o.Epoch = append([]byte(nil), st.Key...), st.Epoch
		st.Zero()
		return []string{fmt.Sprintf("the device no longer holds the root key (erased after export): only key epoch %d and later are MAC-checked here; verify offline with the exported verifier key for the rest", o.Epoch)}, nil
	default:
		return nil, fmt.Errorf("verify event log: root key: %w", err)
	}
}

func printLogReport(w io.Writer, dir string, r *eventlog.Report) {
	fmt.Fprintf(w, "log: %s\n", dir)
	fmt.Fprintf(w, "records: %d (%d to %d)\n", r.Records, r.FirstSeq, r.LastSeq)
	fmt.Fprintf(w, "mac-verified: %d\n", r.MACVerified)
	if r.MACUnchecked > 0 {
		fmt.Fprintf(w, "mac-unchecked: %d\n", r.MACUnchecked)
	}
	fmt.Fprintf(w, "checkpoints: %s\n", checkpointSummary(r))
	fmt.Fprintf(w, "evidence: %s\n", r.Evidence)
	if r.Crash != nil {
		fmt.Fprintf(w, "crash: torn final record in %s at offset %d (%d bytes): incomplete, so never acknowledged (a crash, or a write in progress if the daemon is running)\n", r.Crash.Segment, r.Crash.Offset, r.Crash.Bytes)
	}
	for _, l := range r.Limits {
		fmt.Fprintf(w, "limit: %s\n", l)
	}
	if r.OK {
		fmt.Fprintln(w, "result: verified")
		return
	}
	fmt.Fprintln(w, "result: DAMAGED")
	fmt.Fprintf(w, "first-damage: %s at record %d: %s\n", r.First.Kind, r.First.Seq, r.First.Detail)
	for _, d := range r.Damage {
		where := ""
		if d.Segment != "" {
			where = fmt.Sprintf(" (%s, offset %d)", d.Segment, d.Offset)
		}
		fmt.Fprintf(w, "damage: %s at record %d%s: %s\n", d.Kind, d.Seq, where, d.Detail)
	}
}

// checkpointSummary says, for an admin, what the signed checkpoints in the
// log cover.
func checkpointSummary(r *eventlog.Report) string {
	bad := ""
	if r.CheckpointsUnverified > 0 {
		bad = fmt.Sprintf("; %d in the log did not verify (see the damage)", r.CheckpointsUnverified)
	}
	switch {
	case r.Checkpoints > 0 && r.LastCheckpoint > 0:
		return fmt.Sprintf("%d verified (signed by the device, matching the records); the newest covers records 1 to %d%s", r.Checkpoints, r.LastCheckpoint, bad)
	case r.Checkpoints > 0:
		return fmt.Sprintf("%d verified, none covering a record%s", r.Checkpoints, bad)
	case r.OK:
		return "none yet (the device signs one every log.checkpoint_entries records or log.checkpoint_interval, and at shutdown); the records are covered by their MACs and chain"
	}
	return "none verified" + bad
}

func runLogShow(ctx context.Context, e *env, args []string) error {
	fs := newFlags("log show")
	var lf logDirFlags
	lf.register(fs)
	asJSON := fs.Bool("json", false, "print the stored records as JSON")
	from := fs.Uint64("from", 0, "lowest sequence number `SEQ`")
	to := fs.Uint64("to", 0, "highest sequence number `SEQ`")
	since := fs.String("since", "", "earliest `TIME` (RFC 3339)")
	until := fs.String("until", "", "latest `TIME` (RFC 3339)")
	cats := fs.String("category", "", "comma-separated `CAT`egories (auth, access, software, integrity, config, network, health, system, log)")
	sev := fs.String("severity", "", "least severe level `SEV` to show (e.g. warning shows emergency to warning)")
	actor := fs.String("actor", "", "only events of actor `NAME`")
	limit := fs.Int("limit", 50, "events per page `N` (at most 1000)")
	cursor := fs.String("cursor", "", "continue after a previous page (its \"next\")")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	dir, rest, err := lf.dir(pos)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	q := eventlog.Query{FromSeq: *from, ToSeq: *to, Actor: *actor, Limit: *limit, Cursor: *cursor}
	if q.Since, err = logTimeFlag("since", *since); err != nil {
		return err
	}
	if q.Until, err = logTimeFlag("until", *until); err != nil {
		return err
	}
	for c := range strings.SplitSeq(*cats, ",") {
		if c == "" {
			continue
		}
		if !eventlog.Category(c).Valid() {
			return usagef("--category: unknown category %q", c)
		}
		q.Categories = append(q.Categories, eventlog.Category(c))
	}
	if *sev != "" {
		s, err := eventlog.ParseSeverity(*sev)
		if err != nil {
			return usagef("--severity: %v", err)
		}
		q.MaxSeverity = &s
	}
	page, err := eventlog.QueryDir(dir, q)
	if err != nil {
		return err
	}
	if *asJSON {
		out := struct {
			Records []json.RawMessage `json:"records"`
			Next    string            `json:"next,omitempty"`
		}{Records: []json.RawMessage{}, Next: page.Next}
		for _, r := range page.Records {
			out.Records = append(out.Records, r.Line())
		}
		return writeJSON(e.stdout, out)
	}
	for _, r := range page.Records {
		fmt.Fprintf(e.stdout, "%d %s %-9s %-9s %s", r.Seq, r.Time.Format(time.RFC3339Nano), r.Severity, r.Category, r.Code)
		if r.Actor != "" {
			fmt.Fprintf(e.stdout, " actor=%q", r.Actor)
		}
		if r.Source != "" {
			fmt.Fprintf(e.stdout, " src=%q", r.Source)
		}
		fmt.Fprintf(e.stdout, " %q\n", r.Message)
	}
	if page.Next != "" {
		fmt.Fprintf(e.stdout, "next: --cursor %s\n", page.Next)
	}
	return nil
}

func logTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, usagef("--%s: want an RFC 3339 time such as 2026-12-03T10:00:00Z: %q", name, v)
	}
	return t, nil
}

func runLogExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags("log export")
	var lf logDirFlags
	lf.register(fs)
	format := fs.String("format", "jsonl", "`jsonl` (the stored records, verifiable) or rfc5424 (syslog messages whose MSG is the stored record)")
	from := fs.Uint64("from", 1, "first sequence number `SEQ`")
	to := fs.Uint64("to", 0, "last sequence number `SEQ` (default: the end)")
	host := fs.String("host", "", "HOSTNAME field of RFC 5424 messages (default: the configured device name, or -)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *format != "jsonl" && *format != "rfc5424" {
		return usagef("--format must be jsonl or rfc5424")
	}
	dir, rest, err := lf.dir(pos)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if *host == "" && lf.onDevice() {
		if cfg, err := lf.sf.load(); err == nil {
			*host = cfg.Device.Name
		}
	}
	w := bufio.NewWriter(e.stdout)
	for next := *from; ; {
		recs, err := eventlog.ReadDir(dir, next, 4096)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if *to != 0 && r.Seq > *to {
				return w.Flush()
			}
			if *format == "rfc5424" {
				w.Write(eventlog.FormatRFC5424(r, *host))
			} else {
				w.Write(r.Line())
			}
			w.WriteByte('\n')
			next = r.Seq + 1
		}
		if len(recs) < 4096 {
			return w.Flush()
		}
	}
}

func runLogProve(ctx context.Context, e *env, args []string) error {
	fs := newFlags("log prove")
	var lf logDirFlags
	lf.register(fs)
	asJSON := fs.Bool("json", false, "print the proof as JSON")
	cpFile := fs.String("checkpoint", "", "prove against this signed checkpoint `FILE` (default: the newest in the log that covers SEQ)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	dir, rest, err := lf.dir(pos)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("name exactly one sequence number")
	}
	seq, err := strconv.ParseUint(rest[0], 10, 64)
	if err != nil || seq == 0 {
		return usagef("sequence number %q: want a positive integer", rest[0])
	}
	var cp []byte
	if *cpFile != "" {
		if cp, err = logReadFile(*cpFile, 64<<10); err != nil {
			return err
		}
	}
	var pub ed25519.PublicKey
	if lf.onDevice() {
		if s, _, err := lf.sf.open(); err == nil {
			pub, _ = s.IdentityPublic()
			s.Close()
		}
	}
	p, err := eventlog.Prove(dir, seq, cp, pub)
	if err != nil {
		if errors.Is(err, eventlog.ErrForgedCheckpoint) {
			return tampered("%v", err)
		}
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, p)
	}
	fmt.Fprintf(e.stdout, "record: %d\ntree-size: %d\nroot: %s\n", p.Seq, p.TreeSize, p.Root)
	for _, h := range p.Hashes {
		fmt.Fprintf(e.stdout, "proof: %s\n", h)
	}
	fmt.Fprintf(e.stdout, "line: %s\n", p.Line)
	if pub == nil {
		fmt.Fprintln(e.stdout, "note: the checkpoint's signature was not checked here (no key store); the proof was checked against its root hash")
	}
	return nil
}

func runLogCheckpoint(ctx context.Context, e *env, args []string) error {
	fs := newFlags("log checkpoint")
	var lf logDirFlags
	lf.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	dir, rest, err := lf.dir(pos)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	note, err := eventlog.NewestCheckpoint(dir)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(note)
	return err
}

// logReadFile reads a small file, refusing one larger than limit.
func logReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, limit)
	}
	return b, nil
}
