package sbom

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/medguard/medguard/internal/integrity"
)

// File is one regular file of the software tree.
type File struct {
	Path   string // slash-separated, relative to the tree's root
	Size   int64
	SHA256 string // lower-case hex
}

// FileSource lists the files of a release and opens them. The release
// manifest of internal/integrity is the intended source (it already holds
// paths and SHA-256); Walk is the stand-in that reads a directory.
type FileSource interface {
	// Files returns every regular file, sorted by path.
	Files(ctx context.Context) ([]File, error)
	// Open opens a listed file for reading its build information.
	Open(path string) (*os.File, error)
}

// Walk is a FileSource over a directory tree: it hashes every regular file
// and ignores symlinks and special files.
type Walk struct{ Root string }

// Files implements FileSource.
func (w Walk) Files(ctx context.Context) ([]File, error) {
	var out []File
	err := filepath.WalkDir(w.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(w.Root, p)
		if err != nil {
			return err
		}
		sum, size, err := hashFile(p)
		if err != nil {
			return err
		}
		out = append(out, File{Path: filepath.ToSlash(rel), Size: size, SHA256: sum})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list software tree %s: %w", w.Root, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Open implements FileSource.
func (w Walk) Open(path string) (*os.File, error) {
	return os.Open(filepath.Join(w.Root, filepath.FromSlash(path)))
}

// Listed is a FileSource whose list comes from elsewhere (the release
// manifest): files are opened below Root, and the hashes are those of the
// list, not recomputed.
type Listed struct {
	Root string
	List []File
}

// Files implements FileSource.
func (l Listed) Files(context.Context) ([]File, error) {
	out := append([]File(nil), l.List...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Open implements FileSource. The file's content must still have the
// listed SHA-256: an SBOM must not describe one file under another's hash.
func (l Listed) Open(path string) (*os.File, error) {
	full := filepath.Join(l.Root, filepath.FromSlash(path))
	want := ""
	for _, f := range l.List {
		if f.Path == path {
			want = f.SHA256
		}
	}
	// Hash and read the same open file, so that the file cannot be
	// swapped between the check and the read of its build information.
	f, err := os.Open(full)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		f.Close()
		return nil, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		f.Close()
		return nil, fmt.Errorf("%w: %s has SHA-256 %s, the list says %s", ErrFileChanged, path, got, want)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ErrFileChanged: a file of the tree no longer matches the release
// manifest's hash.
var ErrFileChanged = errors.New("file differs from the release manifest")

// FromManifest lists the regular files of a verified release manifest
// (internal/integrity) below root; symlinks are not components.
func FromManifest(root string, m *integrity.Manifest) Listed {
	l := Listed{Root: root}
	for _, e := range m.Files {
		if e.Kind == integrity.KindSymlink {
			continue
		}
		l.List = append(l.List, File{Path: e.Path, Size: e.Size, SHA256: e.SHA256})
	}
	return l
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
