package integrity

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/medguard/medguard/internal/eventlog"
	"golang.org/x/sys/unix"
)

// OpenExecutable returns a sealed, verified copy of the executable rel of
// the software root, ready to be executed through /proc/self/fd (see
// package supervisor). The file is opened once (without following links
// or leaving the root), its metadata checked against the manifest, its
// content copied into a memfd that is then sealed against any further
// write, and the sealed copy hashed: the bytes that are executed are
// exactly the bytes that were verified, whatever happens to the file on
// disk afterwards.
//
// Only files the manifest lists as executables are opened. A failure is a
// *SecurityError (and an event) when the file is not trustworthy.
//
// IEC 62443-4-2 CR 3.4, SAR 3.2 (protection from malicious code): only
// verified code runs.
func (c *Checker) OpenExecutable(ctx context.Context, rel string) (*os.File, error) {
	e, err := c.listed(rel)
	if err == nil && e.Kind != KindExecutable {
		err = securityf(ReasonNotListed, "%s is listed as %s, not as an executable", rel, e.Kind)
	}
	var f *os.File
	if err == nil {
		f, err = c.sealedCopy(e)
	}
	if err != nil {
		c.refuseExec(ctx, rel, err)
		return nil, err
	}
	return f, nil
}

// ReadVerified returns the content of the listed file rel after checking
// it against the manifest; the bytes returned are the bytes hashed. Use it
// for signed configuration (e.g. the supervisor's program list).
func (c *Checker) ReadVerified(ctx context.Context, rel string) ([]byte, error) {
	e, err := c.listed(rel)
	if err == nil && e.Kind == KindSymlink {
		err = securityf(ReasonNotListed, "%s is a symlink", rel)
	}
	var data []byte
	if err == nil {
		data, err = c.readChecked(e)
	}
	if err != nil {
		c.refuseExec(ctx, rel, err)
		return nil, err
	}
	return data, nil
}

func (c *Checker) listed(rel string) (Entry, error) {
	v := c.Verified()
	if v == nil {
		return Entry{}, securityf(ReasonNotListed, "no verified manifest: %s cannot be trusted", rel)
	}
	e, ok := v.Manifest.Lookup(path.Clean(rel))
	if !ok {
		return Entry{}, securityf(ReasonNotListed, "%s is not in the signed manifest", rel)
	}
	return e, nil
}

func (c *Checker) refuseExec(ctx context.Context, rel string, err error) {
	cause := "software integrity: " + rel + " refused: " + err.Error()
	c.record(ctx, eventlog.Event{Code: "integrity.exec.refused", Severity: eventlog.SeverityCritical,
		Message: rel + " was not started or read: it did not verify", Cause: cause, Action: actionTampered,
		Fields: map[string]string{"path": rel, "error": err.Error()}})
	if IsSecurity(err) {
		c.notSuitable(ctx, "integrity.exec.refused", cause, actionTampered)
	}
}

// openChecked opens e and checks its metadata against the manifest.
func (c *Checker) openChecked(e Entry) (*os.File, error) {
	dir, err := openRoot(c.cfg.Root)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	f, err := openBeneath(dir, e.Path)
	if err != nil {
		return nil, &SecurityError{Reason: ReasonTampered, Msg: "open " + e.Path, Err: err}
	}
	st, err := fstat(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	ck := checker{now: c.cfg.Now}
	fs := ck.checkMeta(e, st)
	if !st.regular() || st.size != e.Size {
		fs = append(fs, ck.finding(FindingChanged, e, fmt.Sprintf("size %d, want %d", st.size, e.Size)))
	}
	if len(fs) > 0 {
		f.Close()
		return nil, securityf(ReasonTampered, "%s %s: %s", e.Path, describe(fs[0].Kind), fs[0].Detail)
	}
	return f, nil
}

func (c *Checker) readChecked(e Entry) ([]byte, error) {
	f, err := c.openChecked(e)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, e.Size+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.Path, err)
	}
	if err := matches(e, data); err != nil {
		return nil, err
	}
	return data, nil
}

// sealedCopy copies e into a sealed memfd and verifies the sealed copy.
func (c *Checker) sealedCopy(e Entry) (*os.File, error) {
	src, err := c.openChecked(e)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("medguard:"+path.Base(e.Path), unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd for %s: %w", e.Path, err)
	}
	mem := os.NewFile(uintptr(fd), "memfd:"+e.Path)
	ok := false
	defer func() {
		if !ok {
			mem.Close()
		}
	}()
	if _, err := io.Copy(mem, io.LimitReader(src, e.Size+1)); err != nil {
		return nil, fmt.Errorf("copy %s: %w", e.Path, err)
	}
	if err := mem.Chmod(0o555); err != nil { // readable and executable by the program's own user
		return nil, fmt.Errorf("chmod memfd for %s: %w", e.Path, err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(mem.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		return nil, fmt.Errorf("seal memfd for %s: %w", e.Path, err)
	}
	// Verify the sealed copy itself: nothing can change it from here on.
	sum, n, err := hashReader(io.NewSectionReader(mem, 0, e.Size+1), make([]byte, hashBufSize), e.Size, nil)
	if err != nil {
		return nil, fmt.Errorf("hash sealed copy of %s: %w", e.Path, err)
	}
	if n != e.Size || hex.EncodeToString(sum[:]) != e.SHA256 {
		return nil, securityf(ReasonTampered, "%s content differs from the manifest (sha256 %x…, %d bytes)", e.Path, sum[:8], n)
	}
	ok = true
	return mem, nil
}

func matches(e Entry, data []byte) error {
	sum, n, _ := hashReader(bytes.NewReader(data), make([]byte, 64<<10), e.Size, nil)
	if n != e.Size || hex.EncodeToString(sum[:]) != e.SHA256 {
		return securityf(ReasonTampered, "%s content differs from the manifest (sha256 %x…, %d bytes)", e.Path, sum[:8], n)
	}
	return nil
}
