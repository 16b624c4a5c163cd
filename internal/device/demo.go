package device

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/integrity"
	"github.com/medguard/medguard/internal/keystore"
)

// displayAddr is where the demo's clinical display listens: 127.0.0.1:8088,
// or a free loopback port when another demo has it.
func displayAddr() string {
	const want = "127.0.0.1:8088"
	ln, err := net.Listen("tcp", want)
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return want
		}
	}
	defer ln.Close()
	return ln.Addr().String()
}

// PrepareDemo sets up a demo device: a state directory (a new temporary one
// if stateDir is empty), a key-encryption key for the sealed-file key store
// kept beside it (never inside the state directory), and the demo
// configuration. It returns a function that adjusts the daemon's Config and
// one that removes what PrepareDemo created (a given stateDir is kept).
func PrepareDemo(ctx context.Context, stateDir string, logger *slog.Logger) (func(Config) Config, func(), error) {
	var root string
	cleanup := func() {}
	if stateDir == "" {
		dir, err := os.MkdirTemp("", "medguard-demo-")
		if err != nil {
			return nil, nil, fmt.Errorf("demo: create temporary directory: %w", err)
		}
		root = dir
		stateDir = filepath.Join(root, "state")
		cleanup = func() { os.RemoveAll(root) }
	} else {
		abs, err := filepath.Abs(stateDir)
		if err != nil {
			return nil, nil, err
		}
		stateDir = abs
		root = filepath.Dir(stateDir)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("demo: create state directory: %w", err)
	}
	kek := filepath.Join(root, filepath.Base(stateDir)+".demo-kek")
	if b, err := keystore.EnsureKEKFile(kek); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("demo: key-encryption key %s: %w", kek, err)
	} else {
		b.Close()
	}
	// The demo's software root: vitalsim (the demo clinical application)
	// and its program list, signed with a release key made for this demo
	// only. It lives beside the state directory, in a directory of its own
	// that BuildDemoTree may remove and rebuild.
	swDir := filepath.Join(root, filepath.Base(stateDir)+".demo-software")
	if err := os.MkdirAll(swDir, 0o700); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("demo: create software directory: %w", err)
	}
	sock := filepath.Join(stateDir, "run", "api.sock")
	cfgFile := filepath.Join(root, filepath.Base(stateDir)+".demo.toml")
	logger.Info("demo: building and signing the demo software tree (vitalsim)", "dir", swDir)
	tree, err := integrity.BuildDemoTree(ctx, integrity.DemoOptions{Dir: swDir, Socket: sock, Listen: displayAddr()})
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("demo: software tree: %w", err)
	}
	logger.Warn("demo mode: keys are sealed under a key-encryption key in an ordinary file; not for clinical use", "kek", kek)
	adjust := func(c Config) Config {
		c.Config.Device.Name = "medguard-demo"
		c.Config.Device.StateDir = stateDir
		c.Config.KeyStore.Backend = "sealed-file"
		c.Config.KeyStore.KEKFile = kek
		c.Config.API.Listen = "127.0.0.1:8443"
		c.Config.API.Socket = sock
		c.Config.Integrity.SoftwareRoot = tree.Root
		c.Config.Integrity.Manifest = tree.Manifest
		c.Config.Integrity.TrustedKeys = []string{tree.TrustedKey.String()}
		c.Config.Integrity.Threshold = 1
		c.Config.Integrity.Programs = tree.Programs
		c.ClinicalDisplay = tree.DisplayURL
		c.Config.Disclosure.Contact = []string{"mailto:product-security@medguard-demo.example"}
		// The demo's configuration, for the CLI's on-device commands
		// (medguard log verify --config FILE): they need its key store.
		var b bytes.Buffer
		b.WriteString("# The configuration of the medguard demo device in " + stateDir + ",\n# written by medguardd --demo at every start.\n")
		if err := config.WriteDocumented(&b, c.Config); err == nil {
			if err := os.WriteFile(cfgFile, b.Bytes(), 0o600); err == nil {
				c.ConfigFile = cfgFile
			} else {
				logger.Warn("demo: write configuration", "err", err)
			}
		}
		c.Demo = true
		return c
	}
	return adjust, cleanup, nil
}
