// Command medguard is the command-line tool of medguard: device
// administration over the API, offline verification of logs, manifests and
// updates, release signing, SBOMs, vulnerability monitoring and the MDS2 form.
//
// Each group of subcommands lives in a file of its own (log.go, keys.go, …)
// and registers itself in commands. This file only dispatches, and reports
// errors one way: "medguard: error: …", "medguard: hint: …".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes (ARCHITECTURE.md, "Contracts"): verification commands exit 1
// when they find tampering or a bad signature, 2 on a usage or I/O error.
const (
	exitOK       = 0
	exitTampered = 1
	exitUsage    = 2
)

// command is one subcommand, possibly with subcommands of its own
// ("log verify").
type command struct {
	name    string // "log verify"
	summary string // one line for the list of commands
	usage   string // "medguard log verify [--json] [--checkpoint FILE] --state-dir DIR"
	example string // at least one runnable example, shown by --help
	// run executes the command. args are the arguments after the command's
	// name. An error of type *exitError sets the exit code; any other error
	// exits 2.
	run func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch: its streams and environment, so that
// tests can run main in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// commands maps "group sub" to the command. Files register theirs in init.
var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("duplicate command " + c.name)
	}
	commands[c.name] = c
}

// exitError carries an exit code and a message that was already printed
// (code 1, a verification failure) or is still to be printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// tampered returns an error that exits 1: damage or a bad signature found.
func tampered(format string, a ...any) error {
	return &exitError{code: exitTampered, err: fmt.Errorf(format, a...)}
}

// usageError is an error in how the command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run finds the longest registered command name that prefixes args and
// runs it.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printCommands(e.stdout)
		return exitOK
	}
	var c *command
	n := 0
	for i := len(args); i > 0; i-- {
		if cc, ok := commands[strings.Join(args[:i], " ")]; ok {
			c, n = cc, i
			break
		}
	}
	if c == nil {
		// A group name alone ("medguard log") lists its subcommands.
		if subs := subcommands(args[0]); len(subs) > 0 {
			printList(e.stdout, "medguard "+args[0]+" commands:", subs)
			return exitUsage
		}
		fmt.Fprintf(e.stderr, "medguard: error: unknown command %q\nmedguard: hint: run \"medguard --help\" for the list of commands\n", args[0])
		return exitUsage
	}
	rest := args[n:]
	for _, a := range rest {
		if a == "-h" || a == "--help" || a == "-help" {
			printHelp(e.stdout, c)
			return exitOK
		}
		if a == "--" {
			break
		}
	}
	err := c.run(ctx, e, rest)
	return report(e.stderr, c, err)
}

// report prints err once and returns the exit code.
func report(w io.Writer, c *command, err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(w, "medguard: error: %v\nmedguard: hint: usage: %s\n", err, c.usage)
		return exitUsage
	}
	var xe *exitError
	if errors.As(err, &xe) {
		if xe.err != nil && xe.err.Error() != "" {
			fmt.Fprintf(w, "medguard: error: %v\n", xe.err)
		}
		return xe.code
	}
	fmt.Fprintf(w, "medguard: error: %v\n", err)
	return exitUsage
}

func subcommands(group string) []*command {
	var out []*command
	for name, c := range commands {
		if strings.HasPrefix(name, group+" ") {
			out = append(out, c)
		}
	}
	return out
}

func printCommands(w io.Writer) {
	all := make([]*command, 0, len(commands))
	for _, c := range commands {
		all = append(all, c)
	}
	fmt.Fprintln(w, "medguard is the command-line tool of the medguard security core.")
	fmt.Fprintln(w)
	printList(w, "Commands:", all)
	fmt.Fprintln(w, "\nRun \"medguard COMMAND --help\" for a command's usage and an example.")
}

func printList(w io.Writer, title string, cs []*command) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	fmt.Fprintln(w, title)
	for _, c := range cs {
		fmt.Fprintf(w, "  %-28s %s\n", c.name, c.summary)
	}
}

func printHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", c.usage, c.summary)
	if c.example != "" {
		fmt.Fprintf(w, "\nExample:\n")
		for _, l := range strings.Split(strings.TrimSpace(c.example), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
}

// newFlags returns a FlagSet for c that reports errors as usage errors and
// prints nothing itself.
func newFlags(c string) *flag.FlagSet {
	fs := flag.NewFlagSet(c, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args with fs, allowing flags after positional
// arguments ("verify LOGDIR --json"), and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
