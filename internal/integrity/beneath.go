package integrity

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// resolveStrict makes openat2 refuse any path that passes through a
// symbolic link (even one that stays inside), a magic link (/proc), or
// that leaves the directory ("..", absolute paths, mount crossings).
const resolveStrict = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

// errEscape marks a path that passes through a symlink or leaves the root.
var errEscape = errors.New("path passes through a symbolic link or leaves the software root")

// resolveRoot resolves symlinks in the path of the software root itself
// (e.g. /opt/medguard/software -> releases/1.4), which is configuration,
// so that the walk and the watcher see the directory; below the root no
// symlink is ever followed.
func resolveRoot(root string) (string, error) {
	r, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("software root %s: %w", root, err)
	}
	return r, nil
}

// openRoot opens the software root as a directory handle (O_PATH).
func openRoot(root string) (*os.File, error) {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open software root %s: %w", root, err)
	}
	return os.NewFile(uintptr(fd), root), nil
}

// openBeneath opens rel (relative to the root dir) for reading without
// following any symbolic link and without leaving the root. Opening never
// blocks (O_NONBLOCK: a FIFO planted in place of a file cannot hang the
// check). ELOOP and EXDEV become errEscape.
func openBeneath(dir *os.File, rel string) (*os.File, error) {
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY,
		Resolve: resolveStrict,
	}
	fd, err := unix.Openat2(int(dir.Fd()), rel, &how)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
			return nil, fmt.Errorf("open %s: %w", rel, errEscape)
		}
		return nil, &os.PathError{Op: "open", Path: rel, Err: err}
	}
	return os.NewFile(uintptr(fd), rel), nil
}

// readlinkBeneath reads the target of the symlink rel, whose parent
// directories must not pass through symlinks or leave the root.
func readlinkBeneath(dir *os.File, rel string) (string, error) {
	parent := dir
	if d := path.Dir(rel); d != "." {
		how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: resolveStrict}
		fd, err := unix.Openat2(int(dir.Fd()), d, &how)
		if err != nil {
			if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
				return "", fmt.Errorf("open %s: %w", d, errEscape)
			}
			return "", &os.PathError{Op: "open", Path: d, Err: err}
		}
		parent = os.NewFile(uintptr(fd), d)
		defer parent.Close()
	}
	buf := make([]byte, maxPathLen+1)
	n, err := unix.Readlinkat(int(parent.Fd()), path.Base(rel), buf)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: rel, Err: err}
	}
	if n > maxPathLen {
		return "", fmt.Errorf("readlink %s: target too long", rel)
	}
	return string(buf[:n]), nil
}

// fileStat is what the checks need from fstat.
type fileStat struct {
	mode  uint32 // st_mode (type and permission bits)
	size  int64
	uid   uint32
	gid   uint32
	nlink uint64
	ctime int64 // ns since the epoch: when the inode last changed
}

func fstat(f *os.File) (fileStat, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fileStat{}, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	return fileStat{
		mode: st.Mode, size: st.Size, uid: st.Uid, gid: st.Gid,
		nlink: uint64(st.Nlink), ctime: st.Ctim.Nano(),
	}, nil
}

func (s fileStat) regular() bool { return s.mode&unix.S_IFMT == unix.S_IFREG }
func (s fileStat) perm() uint32  { return s.mode & 0o7777 }

// hashReader hashes r in chunks of len(buf) and calls pace (if not nil)
// after each chunk with the chunk's size, so that a caller can keep within
// a CPU budget. It returns the digest and the bytes read, reading at most
// limit+1 bytes so that a file grown past its listed size is noticed
// without reading it all.
func hashReader(r io.Reader, buf []byte, limit int64, pace func(n int)) ([32]byte, int64, error) {
	var h hash.Hash = sha256.New()
	var total int64
	lr := io.LimitReader(r, limit+1)
	for {
		n, err := lr.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			total += int64(n)
			if pace != nil {
				pace(n)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return [32]byte{}, total, err
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, total, nil
}
