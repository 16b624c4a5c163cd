package main

import (
	"context"
	"fmt"
)

func init() {
	register(&command{
		name:    "setup",
		summary: "provision a fresh device: create its first admin with the one-time setup code",
		usage:   "medguard [--device URL] setup --code CODE --user NAME --password-stdin [--ca FILE] [--json]",
		example: "printf '%s\\n' \"$ADMIN_PASSWORD\" | medguard --device https://icu-monitor-7:8443 setup --code 7K3QD-9XW2M-ABCDE-FGHJK --user alice --password-stdin",
		run:     runSetup,
	})
}

func runSetup(ctx context.Context, e *env, args []string) error {
	fs := newFlags("setup")
	df := deviceFlags(fs)
	code := fs.String("code", "", "the one-time setup code shown on the device's console")
	user := fs.String("user", "", "the first admin's user name")
	stdin := fs.Bool("password-stdin", false, "read the admin's password from stdin")
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("setup takes no arguments")
	}
	if *code == "" || *user == "" || !*stdin {
		return usagef("setup needs --code, --user and --password-stdin")
	}
	pw, err := readPasswordLine(e)
	if err != nil {
		return err
	}
	c, err := newDevClient(e, df)
	if err != nil {
		return err
	}
	c.cred.Token = "" // setup needs none; a stale one must not be sent
	var a devSession
	if err := c.call(ctx, "POST", "/v1/setup", map[string]string{"code": *code, "user": *user, "password": pw}, &a); err != nil {
		return err
	}
	return c.keepSession(e, a, *asJSON, fmt.Sprintf("device %s provisioned: admin %s created and logged in", c.url, a.User))
}
