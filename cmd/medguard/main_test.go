package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the testscripts in testdata/script run the real main() as
// the "medguard" command, as age's tests do.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"medguard": func() {
			os.Exit(run(context.Background(), &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:]))
		},
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}

// TestEveryCommandHasHelpAndExample keeps the promise that every command
// has --help with an example.
func TestEveryCommandHasHelpAndExample(t *testing.T) {
	for name, c := range commands {
		if c.summary == "" || c.usage == "" || c.example == "" {
			t.Errorf("command %q lacks a summary, usage or example", name)
		}
	}
}
