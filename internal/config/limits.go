package config

import (
	"bytes"
	"fmt"
)

// Limits on what Parse reads. The configuration file is written by the
// device's admin, but every input is treated as hostile
// (ARCHITECTURE.md, principle 6): the TOML decoder takes time that grows
// steeply with nesting (2.6 s for 5,000 nested inline tables in 15 KB),
// and no key of this configuration nests deeper than two levels.
const (
	// MaxFileSize bounds the configuration file; the documented defaults
	// are about 15 KB.
	MaxFileSize = 1 << 20
	// maxNesting bounds the depth of arrays and inline tables.
	maxNesting = 16
)

// checkLimits refuses a document beyond the limits, naming the line.
func checkLimits(name string, data []byte) error {
	if len(data) > MaxFileSize {
		return &FieldError{File: name, Key: "(document)", Msg: fmt.Sprintf("%d bytes, larger than the limit of %d", len(data), MaxFileSize)}
	}
	if off := tooDeep(data, maxNesting); off >= 0 {
		line := bytes.Count(data[:off], []byte("\n")) + 1
		return &FieldError{File: name, Line: line, Key: "(document)", Msg: fmt.Sprintf("arrays or inline tables nested deeper than %d levels", maxNesting)}
	}
	return nil
}

// tooDeep returns the offset at which arrays and inline tables, outside
// strings and comments, nest deeper than limit, or -1. It only counts: the
// decoder reports every syntax error itself.
func tooDeep(data []byte, limit int) int {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
		case '"', '\'':
			i = skipString(data, i)
		case '[', '{':
			if depth++; depth > limit {
				return i
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return -1
}

// skipString returns the offset of the last byte of the string that
// starts at data[i] (basic or literal, single- or multi-line), or the end
// of data if it is not closed.
func skipString(data []byte, i int) int {
	q := data[i]
	delim := []byte{q}
	if bytes.HasPrefix(data[i:], []byte{q, q, q}) {
		delim = []byte{q, q, q}
	}
	for j := i + len(delim); j < len(data); j++ {
		if q == '"' && data[j] == '\\' {
			j++ // an escaped character, possibly a quote
			continue
		}
		if len(delim) == 1 && data[j] == '\n' {
			return j // an unclosed one-line string ends at its line
		}
		if bytes.HasPrefix(data[j:], delim) {
			return j + len(delim) - 1
		}
	}
	return len(data) - 1
}
