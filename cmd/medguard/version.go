package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

func init() {
	register(&command{
		name:    "version",
		summary: "print the version of this medguard build",
		usage:   "medguard version",
		example: "medguard version",
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usagef("version takes no arguments")
			}
			v := "(unknown)"
			if bi, ok := debug.ReadBuildInfo(); ok {
				v = bi.Main.Version
			}
			fmt.Fprintf(e.stdout, "medguard %s\n", v)
			return nil
		},
	})
}
