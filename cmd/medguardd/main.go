// Command medguardd is the medguard device daemon. It parses its flags and
// configuration, wires the device (internal/device) and reports an error
// once; all logic lives in the packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/device"
)

const defaultConfigPath = "/etc/medguard/medguardd.toml"

const usage = `Usage: medguardd [--config FILE] [--state-dir DIR]
       medguardd --demo [--state-dir DIR]
       medguardd --check-config --config FILE
       medguardd --print-default-config

medguardd is the medguard device daemon: it boots the device through its
checks (key store, event log, software integrity, configuration), then
serves the API and supervises the clinical application.

Flags:
`

const examples = `
Examples:
  go run ./cmd/medguardd --demo          a demo device in a temporary directory
  medguardd --print-default-config > /etc/medguard/medguardd.toml
  medguardd --check-config --config /etc/medguard/medguardd.toml
  medguardd --config /etc/medguard/medguardd.toml
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("medguardd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, examples)
	}
	configPath := fs.String("config", "", "configuration `file` (TOML); default "+defaultConfigPath+" if it exists, else the built-in defaults")
	stateDir := fs.String("state-dir", "", "state `directory`; overrides [device] state_dir")
	demo := fs.Bool("demo", false, "run a demo device: temporary state directory, sealed-file key store, demo software")
	checkConfig := fs.Bool("check-config", false, "check the configuration and exit (0 valid, 2 invalid)")
	printDefault := fs.Bool("print-default-config", false, "print the documented default configuration and exit")
	verbose := fs.Bool("verbose", false, "log debug messages")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "medguardd: error: unexpected argument %q\nmedguardd: hint: run medguardd --help\n", fs.Arg(0))
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "medguardd: error: %v\n", err)
		return 2
	}
	if *printDefault {
		if err := config.WriteDocumented(stdout, config.Default()); err != nil {
			return fail(err)
		}
		return 0
	}

	cfg := config.Default()
	path := *configPath
	if path == "" && !*demo {
		if _, err := os.Stat(defaultConfigPath); err == nil {
			path = defaultConfigPath
		}
	}
	if path != "" {
		c, err := config.Load(path)
		if err != nil {
			return fail(err)
		}
		cfg = c
	}
	if *stateDir != "" {
		abs, err := filepath.Abs(*stateDir)
		if err != nil {
			return fail(fmt.Errorf("--state-dir %s: %w", *stateDir, err))
		}
		cfg.Device.StateDir = abs
	}
	if *checkConfig {
		if err := cfg.Validate(); err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, "configuration is valid")
		return 0
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dcfg := device.Config{Config: cfg, Logger: logger, Console: stdout, ConfigFile: path}
	if *demo {
		demoCfg, cleanup, err := device.PrepareDemo(ctx, *stateDir, logger)
		if err != nil {
			return fail(err)
		}
		defer cleanup()
		dcfg = demoCfg(dcfg)
	}
	d, err := device.New(dcfg)
	if err != nil {
		return fail(err)
	}
	if err := d.Run(ctx); err != nil {
		return fail(err)
	}
	return 0
}
