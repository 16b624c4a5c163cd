package config

// Notify is the [notify] table: notifications to the clinical user, the
// device admin and hospital IT (docs/notifications.md).
type Notify struct {
	InboxSize     int `toml:"inbox_size" doc:"How many notifications the admin inbox keeps; the oldest acknowledged ones go first (unacknowledged ones that need acknowledgement go last). 100 to 100000. Default: 1000."`
	StreamClients int `toml:"stream_clients" doc:"How many live streams (Server-Sent Events) may be open at once; more are refused with 503. 1 to 64. Default: 8."`
	ReplayEvents  int `toml:"replay_events" doc:"How many of the newest log entries the notifier reads again at start, to rebuild the inbox and the active clinical warnings. 0 to 1000000. Default: 10000."`
}

func defaultNotify() Notify {
	return Notify{InboxSize: 1000, StreamClients: 8, ReplayEvents: 10000}
}

func (n *Notify) validate() []FieldError {
	errs := inRange("notify.inbox_size", n.InboxSize, 100, 100000)
	errs = append(errs, inRange("notify.stream_clients", n.StreamClients, 1, 64)...)
	return append(errs, inRange("notify.replay_events", n.ReplayEvents, 0, 1000000)...)
}
