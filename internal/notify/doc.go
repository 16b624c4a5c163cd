// Package notify turns security events into notifications that people act
// on: each with a cause filled from the event and a concrete recommended
// action, for the audience that must act (the clinical user, the device
// admin, hospital IT).
//
// The model has four parts:
//
//   - The catalog (catalog.go) lists every kind of notification as data:
//     code, title, severity, audience, the events that raise it, a cause
//     template, a recommended action, whether it needs acknowledgement and
//     which other notifications it resolves. docs/notifications.md is
//     generated from it, and a test keeps the two equal.
//   - The Notifier reads events from the event log (a Source), matches each
//     against the catalog and keeps the result in an inbox. Every
//     notification points to the event behind it: its ID is the event's
//     sequence number. Acknowledging a notification records an event
//     ("notify.acknowledged"), which the Notifier reads back like any other,
//     so the inbox can be rebuilt from the log after a restart.
//   - The admin channel (http.go): an inbox API (list, filter, acknowledge
//     with a comment) and a live stream of Server-Sent Events, whose ids
//     let a console that reconnects replay what it missed.
//   - The clinical channel (clinical.go): the active clinical warnings, in
//     the shape of the local status API, until an event resolves them.
//
// Configuration changes (device settings, users, network access, clinical
// configuration) are notifications of their own with who, when, from
// where, what, and old → new values; values of secret keys are masked even
// if the writer forgot (IEC 62443-4-2 CR 2.8, CR 6.1, CR 6.2).
package notify
