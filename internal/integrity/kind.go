package integrity

import (
	"bytes"
	"path"
	"strings"
)

// classify decides the kind of a regular file from its name, mode and
// first bytes (head).
func classify(p string, perm uint32, head []byte) Kind {
	base := path.Base(p)
	elf := bytes.HasPrefix(head, []byte("\x7fELF"))
	switch {
	case strings.HasSuffix(base, ".so") || strings.Contains(base, ".so."):
		return KindLibrary
	case elf && perm&0o111 == 0:
		return KindLibrary
	case elf || perm&0o111 != 0 || bytes.HasPrefix(head, []byte("#!")):
		return KindExecutable
	}
	switch strings.ToLower(path.Ext(base)) {
	case ".toml", ".json", ".conf", ".cfg", ".ini", ".yaml", ".yml", ".xml", ".env", ".service", ".rules":
		return KindConfiguration
	case ".md", ".txt", ".html", ".pdf", ".1", ".5", ".8", ".rst":
		return KindDocumentation
	}
	if strings.HasPrefix(p, "etc/") || strings.Contains(p, "/etc/") {
		return KindConfiguration
	}
	if strings.HasPrefix(p, "doc/") || strings.Contains(p, "/doc/") || strings.HasPrefix(p, "share/man/") {
		return KindDocumentation
	}
	return KindData
}

// looksExecutable reports whether an unlisted file could run: any execute
// bit, an ELF header or a "#!" line.
func looksExecutable(perm uint32, head []byte) bool {
	return perm&0o111 != 0 || bytes.HasPrefix(head, []byte("\x7fELF")) || bytes.HasPrefix(head, []byte("#!"))
}
