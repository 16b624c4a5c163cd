package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/keystore"
)

// "log erase-root-key" is the second half of the verifier export (issue 3,
// item 2): once the admin holds the exported verifier key, the device
// erases the root key, and from then on nobody who takes the device can
// compute the MAC keys of records written before (docs/eventlog.md, "Keys
// and their evolution").

func init() {
	register(&command{
		name:    "log erase-root-key",
		summary: "erase the event log's root key from the device once the exported verifier key is checked to hold it (forward security begins here)",
		usage:   "medguard log erase-root-key --verifier FILE [--passphrase-file FILE] [--config FILE] [--state-dir DIR]",
		example: "medguard keys export-log-verifier --config /etc/medguard/medguard.toml --out monitor-7.verifier.age\n" +
			"systemctl stop medguardd\n" +
			"medguard log erase-root-key --config /etc/medguard/medguard.toml --verifier monitor-7.verifier.age",
		run: runLogEraseRootKey,
	})
}

func runLogEraseRootKey(ctx context.Context, e *env, args []string) error {
	fs := newFlags("log erase-root-key")
	var sf storeFlags
	sf.register(fs)
	verifier := fs.String("verifier", "", "the verifier key `FILE` from medguard keys export-log-verifier; it must hold this device's root key")
	passFile := fs.String("passphrase-file", "", "read the verifier key's passphrase from the first line of `FILE` instead of standard input")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *verifier == "" {
		return usagef("--verifier FILE is required: export the verifier key first (medguard keys export-log-verifier) and keep it off the device")
	}
	s, cfg, err := sf.open()
	if err != nil {
		return keysError(err)
	}
	defer s.Close()
	root, err := s.Secret(keystore.ItemLogRootKey)
	if errors.Is(err, keystore.ErrNotFound) {
		fmt.Fprintln(e.stdout, "log-root-key: already erased")
		return nil
	}
	if err != nil {
		return keysError(fmt.Errorf("erase event log root key: %w", err))
	}
	defer root.Zero()
	if err := checkVerifierHolds(e, s, root, *verifier, *passFile); err != nil {
		return err
	}
	l, err := eventlog.Open(logConfig(cfg, s))
	if err != nil {
		return fmt.Errorf("erase event log root key (stop medguardd first: the daemon holds the log): %w", err)
	}
	if err := l.EraseRootKey(ctx); err != nil {
		l.Close()
		return err
	}
	last := l.Last()
	if err := l.Close(); err != nil {
		return fmt.Errorf("erase event log root key: %w", err)
	}
	fmt.Fprintf(e.stdout, "log-root-key: erased\nverifier: %s\nnote: keep the verifier key off the device: only it can verify the MACs of records 1 to %d now\n", *verifier, last)
	return nil
}

// checkVerifierHolds refuses to go on unless the verifier file opens with
// its passphrase and holds exactly this device's root key and identity:
// an erasure with no good copy outside would leave the log unverifiable.
func checkVerifierHolds(e *env, s *keystore.Store, root *keystore.Secret, file, passFile string) error {
	v, err := readVerifierFile(e, file, passFile)
	if err != nil {
		return err
	}
	defer v.Zero()
	pub, err := s.IdentityPublic()
	if err != nil {
		return keysError(fmt.Errorf("erase event log root key: identity key: %w", err))
	}
	if !v.RootKey.Equal(root) || !v.DevicePublicKey.Equal(pub) {
		return fmt.Errorf("erase event log root key: %s does not hold this device's root key and identity; nothing was erased", file)
	}
	return nil
}

// logConfig is the event log's configuration as the daemon opens it
// (config.EventLog), under a boot id that names this command.
func logConfig(cfg config.Config, keys eventlog.Keys) eventlog.Config {
	lc := cfg.EventLog(keys)
	lc.BootID = fmt.Sprintf("medguard-cli-%d", os.Getpid())
	return lc
}
