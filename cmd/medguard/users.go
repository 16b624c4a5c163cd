package main

import (
	"context"
	"fmt"
	"net/url"
	"text/tabwriter"
	"time"
)

// userInfo is an account as the device lists it.
type userInfo struct {
	Name            string    `json:"name"`
	Role            string    `json:"role"`
	Disabled        bool      `json:"disabled"`
	Suspended       bool      `json:"suspended"`
	FailedLogins    int       `json:"failed_logins"`
	Created         time.Time `json:"created"`
	PasswordChanged time.Time `json:"password_changed"`
	LastLogin       time.Time `json:"last_login,omitzero"`
}

func init() {
	register(&command{
		name:    "users list",
		summary: "list the device's user accounts (admin)",
		usage:   "medguard [--device URL] users list [--json] [--ca FILE]",
		example: "medguard --device https://icu-monitor-7:8443 users list --json",
		run:     runUsersList,
	})
	register(&command{
		name:    "users add",
		summary: "create a user account with a role; its password comes from stdin (admin, recent login)",
		usage:   "medguard [--device URL] users add NAME --role clinician|technician|admin|service --password-stdin [--ca FILE]",
		example: "printf '%s\\n' \"$NURSE_PASSWORD\" | medguard --device https://icu-monitor-7:8443 users add nurse1 --role clinician --password-stdin",
		run:     runUsersAdd,
	})
	for _, c := range []struct{ name, summary, usage, example string }{
		{"users role", "change a user's role; their sessions end (admin, recent login)", "medguard [--device URL] users role NAME ROLE", "medguard users role nurse1 technician"},
		{"users disable", "disable a user account; its sessions end (admin, recent login)", "medguard [--device URL] users disable NAME", "medguard users disable nurse1"},
		{"users enable", "enable a disabled or suspended account (admin, recent login)", "medguard [--device URL] users enable NAME", "medguard users enable nurse1"},
		{"users delete", "delete a user account (admin, recent login); the last admin cannot be deleted", "medguard [--device URL] users delete NAME", "medguard users delete nurse1"},
		{"users password", "set another user's password from stdin; their sessions end (admin, recent login)", "medguard [--device URL] users password NAME --password-stdin", "printf '%s\\n' \"$NEW\" | medguard users password nurse1 --password-stdin"},
	} {
		register(&command{name: c.name, summary: c.summary, usage: c.usage, example: c.example, run: userChange(c.name)})
	}
}

func runUsersList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("users list")
	df := deviceFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("users list takes no arguments")
	}
	c, err := newDevClient(e, df)
	if err != nil {
		return err
	}
	var a struct {
		Users []userInfo `json:"users"`
	}
	if err := c.call(ctx, "GET", "/v1/users", nil, &a); err != nil {
		return err
	}
	if *asJSON {
		return printDevJSON(e.stdout, a)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tFAILED LOGINS\tLAST LOGIN")
	for _, u := range a.Users {
		st := "active"
		if u.Disabled {
			st = "disabled"
		} else if u.Suspended {
			st = "suspended"
		}
		last := "never"
		if !u.LastLogin.IsZero() {
			last = u.LastLogin.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", u.Name, u.Role, st, u.FailedLogins, last)
	}
	return tw.Flush()
}

func runUsersAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags("users add")
	df := deviceFlags(fs)
	role := fs.String("role", "", "clinician, technician, admin or service")
	stdin := fs.Bool("password-stdin", false, "read the new user's password from stdin")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *role == "" || !*stdin {
		return usagef("users add needs NAME, --role and --password-stdin")
	}
	pw, err := readPasswordLine(e)
	if err != nil {
		return err
	}
	c, err := newDevClient(e, df)
	if err != nil {
		return err
	}
	var u userInfo
	if err := c.call(ctx, "POST", "/v1/users", map[string]string{"name": pos[0], "role": *role, "password": pw}, &u); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s created with role %s\n", u.Name, u.Role)
	return nil
}

// userChange runs "users role|disable|enable|delete|password".
func userChange(name string) func(context.Context, *env, []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		fs := newFlags(name)
		df := deviceFlags(fs)
		stdin := fs.Bool("password-stdin", false, "read the password from stdin (users password)")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		want := 1
		if name == "users role" {
			want = 2
		}
		if len(pos) != want {
			return usagef("%s needs %d argument(s)", name, want)
		}
		path := "/v1/users/" + url.PathEscape(pos[0])
		var method, done string
		var body any
		switch name {
		case "users role":
			method, body, done = "PATCH", map[string]string{"role": pos[1]}, "role of "+pos[0]+" is now "+pos[1]+"; their sessions were ended"
		case "users disable":
			method, body, done = "PATCH", map[string]bool{"disabled": true}, pos[0]+" disabled; their sessions were ended"
		case "users enable":
			method, body, done = "PATCH", map[string]bool{"disabled": false}, pos[0]+" enabled"
		case "users delete":
			method, done = "DELETE", pos[0]+" deleted"
		case "users password":
			if !*stdin {
				return usagef("users password needs --password-stdin")
			}
			pw, err := readPasswordLine(e)
			if err != nil {
				return err
			}
			method, path, body, done = "PUT", path+"/password", map[string]string{"password": pw}, "password of "+pos[0]+" set; their sessions were ended"
		}
		c, err := newDevClient(e, df)
		if err != nil {
			return err
		}
		if err := c.call(ctx, method, path, body, nil); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, done)
		return nil
	}
}
