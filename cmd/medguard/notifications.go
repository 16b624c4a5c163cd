package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func init() {
	register(&command{
		name:    "notifications list",
		summary: "list the device's notifications, newest first, with cause and recommended action",
		usage:   "medguard [--device URL] notifications list [--unacked] [--active] [--audience clinical|admin|it] [--severity S] [--code C] [--limit N] [--json] [--ca FILE]",
		example: "medguard --device https://icu-monitor-7:8443 notifications list --severity warning --active",
		run:     runNotificationsList,
	})
	register(&command{
		name:    "notifications ack",
		summary: "acknowledge a notification with a comment, which is recorded as a security event",
		usage:   "medguard [--device URL] notifications ack ID --comment TEXT [--ca FILE]",
		example: "medguard --device https://icu-monitor-7:8443 notifications ack 1042 --comment 'planned change, ticket CHG-4711'",
		run:     runNotificationsAck,
	})
}

// notificationInfo is a notification as the device's inbox lists it.
type notificationInfo struct {
	ID       uint64    `json:"id"`
	Code     string    `json:"code"`
	Title    string    `json:"title"`
	Severity string    `json:"severity"`
	Cause    string    `json:"cause"`
	Action   string    `json:"action"`
	NeedsAck bool      `json:"needs_ack"`
	Time     time.Time `json:"time"`
	Event    struct {
		Seq    uint64 `json:"seq"`
		Code   string `json:"code"`
		Actor  string `json:"actor"`
		Source string `json:"source"`
	} `json:"event"`
	Changes []struct {
		What string `json:"what"`
		Old  string `json:"old"`
		New  string `json:"new"`
	} `json:"changes"`
	Active bool `json:"active"`
	Ack    *struct {
		By      string    `json:"by"`
		Comment string    `json:"comment"`
		Time    time.Time `json:"time"`
	} `json:"ack"`
}

func runNotificationsList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("notifications list")
	df := deviceFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	unacked := fs.Bool("unacked", false, "only those that need acknowledgement and lack it")
	active := fs.Bool("active", false, "only those still active (not resolved by a later one)")
	audience := fs.String("audience", "", "only those for clinical, admin or it")
	severity := fs.String("severity", "", "only those at least this severe (RFC 5424 name or number)")
	code := fs.String("code", "", "only this notification code")
	limit := fs.Int("limit", 100, "at most this many (1 to 1000)")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("notifications list takes no arguments")
	}
	if *limit < 1 || *limit > 1000 {
		return usagef("--limit %d: want 1 to 1000", *limit)
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *unacked {
		q.Set("unacked", "true")
	}
	if *active {
		q.Set("active", "true")
	}
	for k, v := range map[string]string{"audience": *audience, "severity": *severity, "code": *code} {
		if v != "" {
			q.Set(k, v)
		}
	}
	c, err := newDevClient(e, df)
	if err != nil {
		return err
	}
	// --json prints every field the device sent, not only those shown.
	var raw json.RawMessage
	if err := c.call(ctx, "GET", "/v1/notifications/?"+q.Encode(), nil, &raw); err != nil {
		return err
	}
	if *asJSON {
		return printDevJSON(e.stdout, raw)
	}
	var a struct {
		Notifications []notificationInfo `json:"notifications"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return fmt.Errorf("notifications from the device: %w", err)
	}
	if len(a.Notifications) == 0 {
		fmt.Fprintln(e.stdout, "no notifications")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tSEVERITY\tTITLE\tSTATE")
	for _, n := range a.Notifications {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", n.ID, n.Time.UTC().Format(time.RFC3339), n.Severity, oneLine(n.Title), notificationState(n))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Cause, action and changes of each, below the table: they are
	// sentences, too long for a column.
	for _, n := range a.Notifications {
		fmt.Fprintf(e.stdout, "\n%d %s (%s)\n  cause:  %s\n  action: %s\n", n.ID, oneLine(n.Title), n.Code, oneLine(n.Cause), oneLine(n.Action))
		if n.Event.Actor != "" || n.Event.Source != "" {
			fmt.Fprintf(e.stdout, "  who:    %s from %s (event %d, %s)\n", oneLine(n.Event.Actor), oneLine(n.Event.Source), n.Event.Seq, oneLine(n.Event.Code))
		}
		for _, ch := range n.Changes {
			fmt.Fprintf(e.stdout, "  change: %s: %s → %s\n", oneLine(ch.What), oneLine(ch.Old), oneLine(ch.New))
		}
		if n.Ack != nil {
			fmt.Fprintf(e.stdout, "  acknowledged by %s at %s: %s\n", oneLine(n.Ack.By), n.Ack.Time.UTC().Format(time.RFC3339), oneLine(n.Ack.Comment))
		}
	}
	return nil
}

func notificationState(n notificationInfo) string {
	s := "resolved"
	if n.Active {
		s = "active"
	}
	switch {
	case n.Ack != nil:
		s += ", acknowledged"
	case n.NeedsAck:
		s += ", needs acknowledgement"
	}
	return s
}

func runNotificationsAck(ctx context.Context, e *env, args []string) error {
	fs := newFlags("notifications ack")
	df := deviceFlags(fs)
	comment := fs.String("comment", "", "why it is acknowledged (required; recorded in the security event log)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("notifications ack needs the notification ID (from notifications list)")
	}
	id, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil {
		return usagef("notification ID %q: not a number", pos[0])
	}
	if strings.TrimSpace(*comment) == "" {
		return usagef("notifications ack needs --comment: say why, for whoever reads the log later")
	}
	c, err := newDevClient(e, df)
	if err != nil {
		return err
	}
	var n notificationInfo
	if err := c.call(ctx, "POST", fmt.Sprintf("/v1/notifications/%d/ack", id), map[string]string{"comment": *comment}, &n); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "notification %d acknowledged: %s\n", n.ID, oneLine(n.Title))
	return nil
}
