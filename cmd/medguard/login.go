package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

func init() {
	register(&command{
		name:    "login",
		summary: "log in to a device and keep the session token for the other commands",
		usage:   "medguard [--device URL] login --user NAME --password-stdin [--ca FILE] [--json]",
		example: "printf '%s\\n' \"$PASSWORD\" | medguard --device https://icu-monitor-7:8443 login --user alice --password-stdin",
		run:     runLogin,
	})
	register(&command{
		name:    "logout",
		summary: "end the session with a device and forget its token",
		usage:   "medguard [--device URL] logout [--ca FILE]",
		example: "medguard --device https://icu-monitor-7:8443 logout",
		run:     runLogout,
	})
	register(&command{
		name:    "reauth",
		summary: "enter your password again before critical actions (users, keys, software, network, logs)",
		usage:   "medguard [--device URL] reauth --password-stdin [--ca FILE]",
		example: "printf '%s\\n' \"$PASSWORD\" | medguard --device https://icu-monitor-7:8443 reauth --password-stdin",
		run:     runReauth,
	})
	register(&command{
		name:    "password",
		summary: "change your own password (stdin: current password, then new password, one per line)",
		usage:   "medguard [--device URL] password --password-stdin [--ca FILE]",
		example: "printf '%s\\n%s\\n' \"$OLD\" \"$NEW\" | medguard --device https://icu-monitor-7:8443 password --password-stdin",
		run:     runPassword,
	})
}

// devSession is the device's answer to setup, login and password change.
type devSession struct {
	User    string    `json:"user"`
	Role    string    `json:"role"`
	Kind    string    `json:"kind"`
	Session string    `json:"session"`
	Token   string    `json:"token,omitempty"`
	AuthAt  time.Time `json:"authenticated_at"`
}

// keepSession stores the new token and reports; the token itself is never
// printed.
func (c *devClient) keepSession(e *env, a devSession, asJSON bool, msg string) error {
	c.cred.Token, c.cred.User = a.Token, a.User
	if err := c.saveCred(); err != nil {
		return err
	}
	if asJSON {
		a.Token = ""
		return printDevJSON(e.stdout, a)
	}
	fmt.Fprintf(e.stdout, "%s (role %s, session %s)\n", msg, a.Role, a.Session)
	return nil
}

func runLogin(ctx context.Context, e *env, args []string) error {
	fs := newFlags("login")
	df := deviceFlags(fs)
	user := fs.String("user", "", "your user name")
	stdin := fs.Bool("password-stdin", false, "read the password from stdin")
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("login takes no arguments")
	}
	if *user == "" || !*stdin {
		return usagef("login needs --user and --password-stdin")
	}
	pw, err := readPasswordLine(e)
	if err != nil {
		return err
	}
	c, err := newDevClient(e, df)
	if err != nil {
		return err
	}
	c.cred.Token = "" // a login always starts a new session
	var a devSession
	if err := c.call(ctx, "POST", "/v1/login", map[string]string{"user": *user, "password": pw}, &a); err != nil {
		return err
	}
	return c.keepSession(e, a, *asJSON, fmt.Sprintf("logged in to %s as %s", c.url, a.User))
}

func runLogout(ctx context.Context, e *env, args []string) error {
	fs := newFlags("logout")
	df := deviceFlags(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := newDevClient(e, df)
	if err != nil {
		return err
	}
	if c.cred.Token == "" {
		return fmt.Errorf("not logged in to %s", c.url)
	}
	err = c.call(ctx, "POST", "/v1/logout", nil, nil)
	c.cred.Token = ""
	if serr := c.saveCred(); serr != nil {
		return serr
	}
	if ae, ok := err.(*devAPIError); ok && ae.Code == "unauthenticated" {
		err = nil // the session had ended already
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "logged out of %s\n", c.url)
	return nil
}

func runPassword(ctx context.Context, e *env, args []string) error {
	fs := newFlags("password")
	df := deviceFlags(fs)
	stdin := fs.Bool("password-stdin", false, "read the current and the new password from stdin, one per line")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if !*stdin {
		return usagef("password needs --password-stdin")
	}
	b, err := io.ReadAll(io.LimitReader(e.stdin, 8192))
	if err != nil {
		return fmt.Errorf("read passwords from stdin: %w", err)
	}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	if len(lines) < 2 || lines[0] == "" || lines[1] == "" {
		return usagef("stdin must hold the current password and the new one, one per line")
	}
	c, err := newDevClient(e, df)
	if err != nil {
		return err
	}
	var a devSession
	if err := c.call(ctx, "POST", "/v1/password", map[string]string{"current": lines[0], "new": lines[1]}, &a); err != nil {
		return err
	}
	return c.keepSession(e, a, false, "password changed; your other sessions were ended")
}

func runReauth(ctx context.Context, e *env, args []string) error {
	fs := newFlags("reauth")
	df := deviceFlags(fs)
	stdin := fs.Bool("password-stdin", false, "read the password from stdin")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if !*stdin {
		return usagef("reauth needs --password-stdin")
	}
	pw, err := readPasswordLine(e)
	if err != nil {
		return err
	}
	c, err := newDevClient(e, df)
	if err != nil {
		return err
	}
	if err := c.call(ctx, "POST", "/v1/session/reauth", map[string]string{"password": pw}, nil); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "re-authenticated: critical actions are allowed for the next few minutes")
	return nil
}
