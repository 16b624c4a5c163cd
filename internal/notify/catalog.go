package notify

import (
	"github.com/medguard/medguard/internal/eventlog"
)

// Audience is who must act on a notification.
type Audience string

// The audiences.
const (
	// Clinical is the clinical user at the device's own screen.
	Clinical Audience = "clinical"
	// Admin is the device admin (biomedical engineering) in the console.
	Admin Audience = "admin"
	// IT is the hospital's IT security team, through the SIEM.
	IT Audience = "it"
)

// Kind is one kind of notification in the catalog.
type Kind struct {
	// Code is the notification's stable code.
	Code string
	// Title is a short headline for people.
	Title string
	// Severity is the RFC 5424 severity of the notification.
	Severity eventlog.Severity
	// Audience lists who must act.
	Audience []Audience
	// Events are the event codes that raise it; "x.*" matches every code
	// that starts with "x.".
	Events []string
	// When, if set, further requires these event fields to have these
	// values.
	When map[string]string
	// Categories, if set, raise it for any event of these categories that
	// no earlier kind matched.
	Categories []eventlog.Category
	// MaxSeverity, if set (non-nil), raises it for any event at least this
	// severe that no earlier kind matched.
	MaxSeverity *eventlog.Severity
	// Cause is a text/template filled from the event (see cause.go).
	Cause string
	// Action is the recommended action: concrete, what to check, whom to
	// call. It is a template like Cause.
	Action string
	// NeedsAck says the admin must acknowledge it.
	NeedsAck bool
	// Change marks a configuration change: the notification lists the
	// changed values, old → new, secrets masked.
	Change bool
	// Implies, for a configuration change, is the change that an event's
	// code itself means, by event code: the writer records no old value
	// for it (an account disabled, a password reset). Secrets appear only
	// as Masked.
	Implies map[string]Change
	// Resolves lists the codes of notifications that this one ends: a
	// notification stays active (a clinical warning stays on the screen)
	// until a later one resolves it.
	Resolves []string
	// Silent kinds match events that must not raise a notification.
	Silent bool
}

var (
	critical = eventlog.SeverityCritical
	errorSev = eventlog.SeverityError
)

// doNotUse is the first words of every clinical action when the device is
// not suitable for clinical use.
const doNotUse = "Do not use this device for patient care: move the patient to another device now. "

// deviceStates are the notifications of the device states: each ends the
// one before it (of an earlier boot too), so that one is active, the
// current state's.
var deviceStates = []string{"device.not-suitable", "device.recovery", "device.degraded", "device.operational", "device.provisioning"}

// Catalog lists every kind of notification, in matching order: an event
// raises the first kind that matches it.
var Catalog = []Kind{
	// Events that must not raise a notification of their own: the
	// acknowledgements (which update the inbox) and the log's checkpoints.
	{Code: "notify.acknowledged", Title: "Notification acknowledged", Severity: eventlog.SeverityInfo,
		Events: []string{"notify.acknowledged", "log.checkpoint"}, Silent: true, Action: "None."},

	// Device states (ARCHITECTURE.md, "Device states"): every transition is
	// a notification.
	{
		Code: "device.not-suitable", Title: "Device not suitable for clinical use",
		Severity: eventlog.SeverityAlert, Audience: []Audience{Clinical, Admin, IT},
		Events: []string{"device.state.changed"}, When: map[string]string{"to": "not-suitable"},
		Cause:    "{{because .}}",
		Action:   doNotUse + "Then call biomedical engineering (the device admin), who checks the device's notifications in the web console and restores known-good software or configuration.",
		NeedsAck: true, Resolves: deviceStates,
	},
	{
		Code: "device.recovery", Title: "Device in recovery or service mode",
		Severity: eventlog.SeverityWarning, Audience: []Audience{Clinical, Admin, IT},
		Events: []string{"device.state.changed"}, When: map[string]string{"to": "recovery"},
		Cause:    "{{because .}}",
		Action:   doNotUse + "Service or software recovery is in progress; wait until biomedical engineering returns the device to operation.",
		Resolves: deviceStates,
	},
	{
		Code: "device.degraded", Title: "Device degraded: an admin must look at it",
		Severity: eventlog.SeverityWarning, Audience: []Audience{Admin, IT},
		Events: []string{"device.state.changed"}, When: map[string]string{"to": "degraded"},
		Cause:    "{{because .}}",
		Action:   "Clinical use continues. Open the device's notifications in the web console, follow the recommended action of the notification that degraded it, then return the device to operation.",
		NeedsAck: true, Resolves: deviceStates,
	},
	{
		Code: "device.operational", Title: "Device operational",
		Severity: eventlog.SeverityNotice, Audience: []Audience{Admin, IT},
		Events: []string{"device.state.changed"}, When: map[string]string{"to": "operational"},
		Cause:    "{{because .}}",
		Action:   "None: the device passed its checks and is ready for clinical use.",
		Resolves: deviceStates,
	},
	{
		Code: "device.provisioning", Title: "Device waiting to be provisioned",
		Severity: eventlog.SeverityNotice, Audience: []Audience{Admin},
		Events: []string{"device.state.changed"}, When: map[string]string{"to": "provisioning"},
		Cause:    "{{because .}}",
		Action:   "Provision the device with its one-time setup code (shown on the device's screen) from the local setup interface; no default password exists.",
		Resolves: deviceStates,
	},
	{Code: "device.state.other", Title: "Device state changed", Severity: eventlog.SeverityInfo, Audience: []Audience{Admin},
		Events: []string{"device.state.changed"}, Cause: "{{because .}}", Action: "None."},

	{
		Code: "device.boot.failed", Title: "A boot check failed",
		Severity: critical, Audience: []Audience{Admin, IT},
		Events:   []string{"device.boot.failed"},
		Cause:    "{{because .}}",
		Action:   "Keep the device out of clinical use until it boots cleanly: follow the failed check's notification (software, configuration, keys or log), or call the maker's service.",
		NeedsAck: true,
	},

	// Software and configuration integrity.
	{
		Code: "integrity.software.changed", Title: "Software on the device was changed",
		Severity: critical, Audience: []Audience{Admin, IT},
		Events:   []string{"integrity.file.*", "integrity.path.*"},
		Cause:    "{{field . \"path\" | fallback \"a file\"}} does not match the signed software manifest ({{.Code}}){{with .Cause}}: {{.}}{{end}}.",
		Action:   "Treat this as a possible attack: keep the device out of clinical use, reinstall the maker's signed release of this version (the maker's service procedure), restart medguardd so that its boot check verifies every file, and confirm with medguard manifest verify. Report it to hospital IT security and to the maker's product-security contact.",
		NeedsAck: true,
	},
	{
		Code: "integrity.manifest.invalid", Title: "Software manifest does not verify",
		Severity: critical, Audience: []Audience{Admin, IT},
		Events:   []string{"integrity.manifest.*"},
		Cause:    "{{because .}}",
		Action:   "Do not run the device's software: reinstall a signed release from the maker (the maker's service procedure) and check it with medguard manifest verify before restarting medguardd. A bad signature can mean tampering: inform hospital IT security.",
		NeedsAck: true,
	},
	{
		Code: "integrity.exec.refused", Title: "Unverified program refused",
		Severity: errorSev, Audience: []Audience{Admin, IT},
		Events:   []string{"integrity.exec.refused", "supervisor.program.refused"},
		Cause:    "{{field . \"path\" | fallback (field . \"program\") | fallback \"a program\"}} was not started: it is not listed in, or does not match, the signed manifest{{with .Cause}} ({{.}}){{end}}.",
		Action:   "Find out who installed the program (see the events before this one). Reinstall the signed release if the program belongs to it; otherwise remove it and report it to hospital IT security.",
		NeedsAck: true,
	},
	{
		Code: "integrity.monitor.degraded", Title: "Run-time integrity monitoring impaired",
		Severity: eventlog.SeverityWarning, Audience: []Audience{Admin, IT},
		Events: []string{"integrity.monitor.*", "integrity.findings.truncated"},
		Cause:  "{{because .}}",
		Action: "Run a full integrity check (medguard manifest verify) and look for a burst of file changes; if the device is overloaded, check its health notifications.",
	},

	// Clinical application supervision and health.
	{
		Code: "clinical.app.stopped", Title: "Clinical application stopped",
		Severity: critical, Audience: []Audience{Clinical, Admin, IT},
		Events:   []string{"supervisor.program.gave-up"},
		Cause:    "{{field . \"program\" | fallback \"The clinical application\"}} crashed repeatedly and is no longer restarted{{with .Cause}}: {{.}}{{end}}.",
		Action:   doNotUse + "Call biomedical engineering, who restarts the device and reports the failure to the maker.",
		NeedsAck: true,
	},
	{
		Code: "clinical.app.restarted", Title: "Clinical application restarted",
		Severity: eventlog.SeverityNotice, Audience: []Audience{Admin},
		Events:   []string{"supervisor.program.started"},
		Cause:    "{{because .}}",
		Action:   "None if this follows a planned start; if it follows a crash, check the device's health notifications.",
		Resolves: []string{"clinical.app.stopped"},
	},
	{
		Code: "health.limit", Title: "System health limit exceeded",
		Severity: eventlog.SeverityWarning, Audience: []Audience{Admin, IT},
		Events: []string{"health.*"},
		Cause:  "{{because .}}",
		Action: "Check the device's load in the console (CPU, memory, disk, network). Unexpected network load can be an attack: ask hospital IT to check the traffic to the device.",
	},

	// Accounts and access.
	{
		Code: "auth.guessing", Title: "Repeated failed logins",
		Severity: eventlog.SeverityWarning, Audience: []Audience{Admin, IT},
		Events:   []string{"auth.login.throttled", "auth.account.suspended", "auth.unknown-user-failures", "auth.guessing"},
		Cause:    "{{field . \"failures\" | fallback \"Many\"}} failed logins for {{field . \"user\" | fallback .Actor | fallback \"an account\"}} from {{.Source | fallback \"an unknown source\"}}{{with .Cause}}: {{.}}{{end}}.",
		Action:   "If it was not a user who forgot a password, treat it as password guessing: ask hospital IT to find and block the source, and check the account's recent logins.",
		NeedsAck: true,
	},
	{
		Code: "auth.setup.failed", Title: "Wrong setup code entered",
		Severity: eventlog.SeverityWarning, Audience: []Audience{Admin, IT},
		Events:   []string{"auth.setup.failed"},
		Cause:    "A setup attempt from {{.Source | fallback \"an unknown source\"}} used a wrong setup code ({{field . \"failures\" | fallback \"1\"}} so far).",
		Action:   "If nobody at the hospital is provisioning the device, someone on the network is trying to take it over: isolate the device and inform hospital IT security.",
		NeedsAck: true,
	},
	{
		Code: "access.denied", Title: "Access denied",
		Severity: eventlog.SeverityNotice, Audience: []Audience{Admin},
		Events: []string{"access.denied", "access.local.denied", "auth.certificate.refused"},
		Cause:  "{{.Actor | fallback \"A client\"}} from {{.Source | fallback \"an unknown source\"}} was refused: {{.Message}}",
		Action: "None for a single refusal; repeated refusals from one source deserve a look by hospital IT.",
	},

	// Configuration changes (issue 6, item 4): who, when, where, what,
	// old → new.
	{
		Code: "config.change.users", Title: "Users or roles changed",
		Severity: eventlog.SeverityNotice, Audience: []Audience{Admin, IT},
		Events: []string{"auth.user.*", "auth.password.changed", "auth.password.reset", "auth.role.*"},
		Cause:  "{{.Actor}} from {{.Source}}: {{.Message}}",
		Action: "Check that the change was planned; if not, disable the account that made it and inform hospital IT security.",
		Change: true,
		Implies: map[string]Change{
			"auth.user.created":     {What: "account", Old: "–", New: "created"},
			"auth.user.deleted":     {What: "account", Old: "exists", New: "deleted"},
			"auth.user.enabled":     {What: "account", Old: "disabled", New: "enabled"},
			"auth.user.disabled":    {What: "account", Old: "enabled", New: "disabled"},
			"auth.password.changed": {What: "password", Old: Masked, New: Masked},
			"auth.password.reset":   {What: "password", Old: Masked, New: Masked},
		},
	},
	{
		Code: "config.change.network", Title: "Network access changed",
		Severity: eventlog.SeverityNotice, Audience: []Audience{Admin, IT},
		Events: []string{"network.allowlist.*", "network.access.*", "network.listener.*", "network.config.*", "netguard.config.*"},
		Cause:  "{{.Actor}} from {{.Source}}: {{.Message}}",
		Action: "Check that the change was planned and matches the hospital's network plan; if not, restore the previous setting and inform hospital IT security.",
		Change: true,
	},
	{
		Code: "config.change.clinical", Title: "Clinical configuration changed",
		Severity: eventlog.SeverityNotice, Audience: []Audience{Admin, IT},
		Events: []string{"config.clinical.*"},
		Cause:  "{{.Actor}} from {{.Source}}: {{.Message}}",
		Action: "Check with the clinical lead that the change was intended; if not, restore the previous clinical configuration version from the console.",
		Change: true,
	},
	{
		Code: "config.change.settings", Title: "Device settings changed",
		Severity: eventlog.SeverityNotice, Audience: []Audience{Admin, IT},
		Events: []string{"config.*", "keystore.key.*", "keystore.certificate.*", "forward.config.*"}, Categories: []eventlog.Category{eventlog.CategoryConfig},
		Cause:  "{{.Actor}} from {{.Source}}: {{.Message}}",
		Action: "Check that the change was planned; if not, restore the previous setting and inform hospital IT security.",
		Change: true,
	},

	// Keys, log and forwarding.
	{
		Code: "keys.unseal.failed", Title: "Device keys cannot be unsealed",
		Severity: critical, Audience: []Audience{Admin, IT},
		Events:   []string{"keystore.unseal.failed"},
		Cause:    "{{because .}}",
		Action:   "The firmware, boot chain or key files changed: if nobody updated the device, treat it as tampering. Call the maker's service to re-provision the device.",
		NeedsAck: true,
	},
	{
		Code: "log.tampered", Title: "Security event log damaged or tampered with",
		Severity: critical, Audience: []Audience{Admin, IT},
		Events:   []string{"log.verify.failed", "log.tamper.*", "log.checkpoint.invalid", "log.tail.*", "log.truncation.detected"},
		Cause:    "{{because .}}",
		Action:   "Preserve the device's state directory as evidence, verify the log offline (medguard log verify), compare with what the SIEM received (medguard log verify-forwarded) and inform hospital IT security.",
		NeedsAck: true,
	},
	{
		Code: "log.full", Title: "Security event log full: events refused",
		Severity: critical, Audience: []Audience{Admin, IT},
		Events:   []string{"log.full"},
		Cause:    "{{because .}}",
		Action:   "Security events are no longer recorded. Export the log (medguard log export) and archive it, then free space as the log policy allows; find out what filled it (see the events before this one).",
		NeedsAck: true,
	},
	{
		Code: "log.capacity", Title: "Security event log nearly full",
		Severity: eventlog.SeverityWarning, Audience: []Audience{Admin, IT},
		Events: []string{"log.capacity.*", "log.segments.removed"},
		Cause:  "{{because .}}",
		Action: "Check that the SIEM receives the log (nothing is lost then) or export it (medguard log export); look for a flood of events.",
	},
	{
		Code: "log.flood", Title: "Flood of identical security events",
		Severity: eventlog.SeverityWarning, Audience: []Audience{Admin, IT},
		// Raised by the log's counted summary of a flood (a "coalesced"
		// field) of events that have no notification of their own
		// (Notifier.kindOf); a flood of events that do keeps their kind.
		Events: []string{"log.flood.*"},
		Cause:  "{{with field . \"coalesced\"}}{{.}} identical events{{else}}A flood of identical events{{end}} ({{.Code}}{{with .Actor}}, actor {{.}}{{end}}{{with .Source}}, from {{.}}{{end}}){{with field . \"coalesced_first\"}} between {{.}}{{end}}{{with field . \"coalesced_last\"}} and {{.}}{{end}} were counted into one entry of the log.",
		Action: "A burst of identical events can be an attack (password guessing, scanning): ask hospital IT to find the source; the events were counted, not lost.",
	},
	{
		Code: "device.crashed", Title: "Device stopped abruptly",
		Severity: eventlog.SeverityNotice, Audience: []Audience{Admin},
		Events: []string{"log.crash.detected"},
		Cause:  "{{because .}}",
		Action: "If there was no power loss, check the device's health notifications and report repeated crashes to the maker.",
	},
	{
		Code: "network.scan", Title: "Port scan against the device",
		Severity: eventlog.SeverityWarning, Audience: []Audience{IT, Admin},
		Events: []string{"network.port.scan", "network.scan.*"},
		Cause:  "{{.Source | fallback \"A host\"}} probed the device's ports{{with .Cause}}: {{.}}{{end}}.",
		Action: "Ask hospital IT whether the scan was authorised (a vulnerability scanner); if not, find and isolate the scanning host.",
	},
	{
		Code: "siem.unreachable", Title: "SIEM destination unreachable",
		Severity: eventlog.SeverityWarning, Audience: []Audience{IT, Admin},
		Events: []string{"forward.destination.unreachable"},
		Cause:  "{{field . \"destination\"}} ({{field . \"address\"}}) cannot be reached: {{.Cause}}.",
		Action: "Check the SIEM receiver and the network path to it (firewall, certificate). No event is lost: they wait in the device's log and are sent when it returns.",
	},
	{
		Code: "siem.restored", Title: "SIEM destination reachable again",
		Severity: eventlog.SeverityNotice, Audience: []Audience{IT},
		Events:   []string{"forward.destination.restored"},
		Cause:    "{{field . \"destination\"}} ({{field . \"address\"}}) is reachable again; the backlog is being sent.",
		Action:   "None.",
		Resolves: []string{"siem.unreachable"},
	},
	{
		Code: "siem.impostor", Title: "SIEM receiver failed TLS verification",
		Severity: errorSev, Audience: []Audience{IT, Admin},
		Events:   []string{"forward.destination.handshake-failed"},
		Cause:    "The TLS handshake with {{field . \"destination\"}} ({{field . \"address\"}}) failed: {{.Cause}}.",
		Action:   "Check that the receiver's certificate is issued by the configured CA and carries the configured name. An unexpected certificate can mean an impostor on the network: inform hospital IT security.",
		NeedsAck: true,
	},
	{
		Code: "siem.tls.weakened", Title: "SIEM destination allows TLS 1.2",
		Severity: eventlog.SeverityNotice, Audience: []Audience{IT},
		Events: []string{"forward.tls.weakened"},
		Cause:  "{{field . \"destination\"}} ({{field . \"address\"}}) is configured with min_tls_version = 1.2.",
		Action: "Enable TLS 1.3 on the SIEM receiver (for rsyslog's gtls driver: gnutlsPriorityString with +VERS-TLS1.3) and set min_tls_version to 1.3.",
	},
	{
		Code: "siem.gap", Title: "Events lost before they reached the SIEM",
		Severity: errorSev, Audience: []Audience{IT, Admin},
		Events:   []string{"forward.log.gap"},
		Cause:    "Entries {{field . \"from\"}} to {{field . \"to\"}} were pruned from the log before {{field . \"destination\"}} received them.",
		Action:   "Export the device's log (medguard log export) to close the gap in the SIEM, and find out why the SIEM was unreachable so long.",
		NeedsAck: true,
	},

	// Anything serious that no kind above names.
	{
		Code: "security.event", Title: "Security event",
		Severity: errorSev, Audience: []Audience{Admin, IT}, MaxSeverity: &errorSev,
		Cause:    "{{because .}}",
		Action:   "{{with .Action}}{{.}}{{else}}Look at the event in the device's log and the events around it; if it is unexpected, inform hospital IT security.{{end}}",
		NeedsAck: true,
	},
}
