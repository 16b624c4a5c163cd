package main

import (
	"context"
	"fmt"
	"net/url"
	"text/tabwriter"
	"time"
)

func init() {
	register(&command{
		name:    "sessions list",
		summary: "list the device's live sessions (admin)",
		usage:   "medguard [--device URL] sessions list [--json] [--ca FILE]",
		example: "medguard --device https://icu-monitor-7:8443 sessions list",
		run:     runSessionsList,
	})
	register(&command{
		name:    "sessions end",
		summary: "end a session by its ID (admin, recent login)",
		usage:   "medguard [--device URL] sessions end ID [--ca FILE]",
		example: "medguard --device https://icu-monitor-7:8443 sessions end 3f9a1c0de4b27781",
		run:     runSessionsEnd,
	})
}

type sessionInfo struct {
	ID       string    `json:"id"`
	User     string    `json:"user"`
	Kind     string    `json:"kind"`
	Source   string    `json:"source"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
}

func runSessionsList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("sessions list")
	df := deviceFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("sessions list takes no arguments")
	}
	c, err := newDevClient(e, df)
	if err != nil {
		return err
	}
	var a struct {
		Sessions []sessionInfo `json:"sessions"`
	}
	if err := c.call(ctx, "GET", "/v1/sessions", nil, &a); err != nil {
		return err
	}
	if *asJSON {
		return printDevJSON(e.stdout, a)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tKIND\tSOURCE\tCREATED\tLAST SEEN")
	for _, s := range a.Sessions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.User, s.Kind, s.Source, s.Created.UTC().Format(time.RFC3339), s.LastSeen.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func runSessionsEnd(ctx context.Context, e *env, args []string) error {
	fs := newFlags("sessions end")
	df := deviceFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("sessions end needs the session ID (from sessions list)")
	}
	c, err := newDevClient(e, df)
	if err != nil {
		return err
	}
	if err := c.call(ctx, "DELETE", "/v1/sessions/"+url.PathEscape(pos[0]), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "session %s ended\n", pos[0])
	return nil
}
