package integrity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DemoOptions say where and how to build the demo software tree.
type DemoOptions struct {
	// Dir is an existing directory beside the demo's state directory; the
	// tree goes to Dir/software (removed and rebuilt on every call) and the
	// signed manifest to Dir/manifest.dsse.json.
	Dir string
	// Socket is the daemon's local API socket, passed to vitalsim through
	// its signed environment.
	Socket string
	// Listen is vitalsim's display address (loopback); default
	// 127.0.0.1:8088.
	Listen string
	// VitalsimBinary is a built vitalsim to copy. Empty: a "vitalsim" next
	// to the running executable, else `go build` of cmd/vitalsim (which
	// needs the Go toolchain and the module source, as `go run
	// ./cmd/medguardd --demo` has).
	VitalsimBinary string
}

// DemoTree is a signed demo software tree.
type DemoTree struct {
	Root       string    // the software root
	Manifest   string    // the signed manifest
	TrustedKey PublicKey // the generated demo release key; put it in [integrity] trusted_keys
	Programs   string    // the program list, relative to Root
	DisplayURL string    // where vitalsim's clinical display will be
}

// BuildDemoTree builds the demo software tree (vitalsim and its signed
// program list) and signs it with a freshly generated demo key, whose
// private half is zeroed afterwards and never written anywhere.
func BuildDemoTree(ctx context.Context, o DemoOptions) (*DemoTree, error) {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8088"
	}
	if !filepath.IsAbs(o.Dir) || !filepath.IsAbs(o.Socket) {
		return nil, errors.New("build demo tree: Dir and Socket must be absolute paths")
	}
	root := filepath.Join(o.Dir, "software")
	// Start from nothing: re-signing a tree left from an earlier run would
	// sign whatever was tampered with in it.
	if err := os.RemoveAll(root); err != nil {
		return nil, fmt.Errorf("build demo tree: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		return nil, fmt.Errorf("build demo tree: %w", err)
	}
	bin := filepath.Join(root, "bin/vitalsim")
	if err := placeVitalsim(ctx, o.VitalsimBinary, bin); err != nil {
		return nil, fmt.Errorf("build demo tree: %w", err)
	}
	files := map[string]string{
		"etc/supervisor.toml":  demoPrograms(o),
		"share/doc/README.txt": demoReadme,
	}
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return nil, fmt.Errorf("build demo tree: %w", err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			return nil, fmt.Errorf("build demo tree: %w", err)
		}
	}
	key, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	defer key.Zero()
	m, err := Build(ctx, root, BuildOptions{Product: "medguard-demo", Version: "1.0.0-demo", SecurityVersion: 1})
	if err != nil {
		return nil, fmt.Errorf("build demo tree: %w", err)
	}
	env, err := Sign(ctx, m, key)
	if err != nil {
		return nil, err
	}
	mf := filepath.Join(o.Dir, "manifest.dsse.json")
	if err := os.WriteFile(mf, env, 0o644); err != nil {
		return nil, fmt.Errorf("build demo tree: %w", err)
	}
	return &DemoTree{Root: root, Manifest: mf, TrustedKey: key.PublicKey(), Programs: "etc/supervisor.toml",
		DisplayURL: "http://" + o.Listen + "/"}, nil
}

func demoPrograms(o DemoOptions) string {
	return fmt.Sprintf(`# The supervisor's program list: signed configuration (listed in the manifest).
[[program]]
name = "vitalsim"
path = "bin/vitalsim"
args = ["--listen", %s, "--poll", "200ms"]
env = [%s]
restart = "on-failure"
max_restarts = 5
restart_window = "1m"
stop_timeout = "5s"
`, strconv.Quote(o.Listen), strconv.Quote("MEDGUARD_LOCAL_SOCKET="+o.Socket))
}

const demoReadme = `medguard demo software tree.

Every file here is listed in the signed manifest next to this directory.
To see the device react, change any of them while the demo runs, e.g.:

  printf 'X' | dd of=bin/vitalsim bs=1 seek=4096 conv=notrunc
  chmod u+s bin/vitalsim
  cp /bin/true bin/helper

Within a second the clinical display shows NOT SUITABLE FOR CLINICAL USE
with the cause, and the admin gets the security event.
`

// placeVitalsim copies a given binary, or one next to the executable, or
// builds cmd/vitalsim.
func placeVitalsim(ctx context.Context, src, dst string) error {
	if src == "" {
		if exe, err := os.Executable(); err == nil {
			if cand := filepath.Join(filepath.Dir(exe), "vitalsim"); isFile(cand) {
				src = cand
			}
		}
	}
	if src != "" {
		b, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("copy vitalsim: %w", err)
		}
		return os.WriteFile(dst, b, 0o755)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", dst, "github.com/medguard/medguard/cmd/vitalsim")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build vitalsim: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return os.Chmod(dst, 0o755)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
