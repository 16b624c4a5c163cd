package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxPassphrase bounds a passphrase read from a file or standard input.
const maxPassphrase = 1024

// readPassphrase reads a passphrase: the first line of file if given,
// else of standard input. At a terminal it prompts, turns echo off, and,
// if confirm is set, asks twice.
func readPassphrase(e *env, file string, confirm bool) ([]byte, error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		defer f.Close()
		return firstLine(f, "passphrase file "+file)
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !isTerminal(f) {
		return firstLine(e.stdin, "standard input")
	}
	p, err := promptNoEcho(e, f, "passphrase: ")
	if err != nil || !confirm {
		return p, err
	}
	again, err := promptNoEcho(e, f, "passphrase again: ")
	defer clear(again)
	if err != nil {
		clear(p)
		return nil, err
	}
	if !bytes.Equal(p, again) {
		clear(p)
		return nil, errors.New("read passphrase: the two entries differ")
	}
	return p, nil
}

// firstLine reads one line (without its line ending) from r.
func firstLine(r io.Reader, what string) ([]byte, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxPassphrase+2), maxPassphrase+2)
	line, err := br.ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read passphrase from %s: %w", what, err)
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if len(line) > maxPassphrase {
		return nil, fmt.Errorf("read passphrase from %s: longer than %d bytes", what, maxPassphrase)
	}
	if len(line) == 0 {
		return nil, fmt.Errorf("read passphrase from %s: empty", what)
	}
	return bytes.Clone(line), nil
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// promptNoEcho prints prompt to standard error and reads a line from the
// terminal f with echo turned off.
func promptNoEcho(e *env, f *os.File, prompt string) ([]byte, error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return nil, err
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	fmt.Fprint(e.stderr, prompt)
	defer fmt.Fprintln(e.stderr)
	return firstLine(f, "terminal")
}
