package config

// Auth is the [auth] table: passwords, sessions, throttling and the setup
// code (docs/auth.md).
type Auth struct {
	MinPasswordLength      int      `toml:"min_password_length" doc:"Minimum password length in Unicode code points (NIST SP 800-63B-4: 15 for password-only accounts). Range 8 to 64. Default: 15."`
	Argon2Time             uint32   `toml:"argon2_time" doc:"argon2id passes over memory. Range 1 to 10. Default: 2. Stored hashes are renewed at the next login when the cost changes."`
	Argon2MemoryKiB        uint32   `toml:"argon2_memory_kib" doc:"argon2id memory per hash in KiB (OWASP minimum 19456). Range 19456 to 262144. Default: 19456."`
	Argon2Threads          uint8    `toml:"argon2_threads" doc:"argon2id lanes. Range 1 to 4. Default: 1."`
	MaxConcurrentHashes    int      `toml:"max_concurrent_hashes" doc:"How many password hashes may run at once; further logins wait briefly, then are refused with 'busy'. Memory for hashing is at most this times argon2_memory_kib. Range 1 to 16. Default: 2."`
	SessionIdleTimeout     Duration `toml:"session_idle_timeout" doc:"A session unused this long ends. Range 1m to 60m. Default: 15m."`
	SessionAbsoluteTimeout Duration `toml:"session_absolute_timeout" doc:"A session this old ends, however active. Range 1h to 24h. Default: 12h."`
	ReauthWindow           Duration `toml:"reauth_window" doc:"Critical actions (users, keys, software, network, logs) need a password entered within this time. Range 1m to 15m. Default: 5m."`
	SetupCodeLifetime      Duration `toml:"setup_code_lifetime" doc:"How long a one-time setup code is valid; a new one is shown when it expires. Range 5m to 30m. Default: 30m."`
	AccountMaxDelay        Duration `toml:"account_max_delay" doc:"Longest delay imposed on an account after failed logins from many sources; kept short so that an attacker cannot lock a clinician out. Range 1s to 60s. Default: 30s."`
	SourceMaxDelay         Duration `toml:"source_max_delay" doc:"Longest delay imposed on one source after failed logins. Range 1m to 1h. Default: 15m."`
	MaxConsecutiveFailures int      `toml:"max_consecutive_failures" doc:"Consecutive failed logins after which a non-clinical account is suspended until an admin enables it (NIST SP 800-63B-4: at most 100). Clinical accounts and the last admin are only throttled. Range 10 to 100. Default: 100."`
}

func defaultAuth() Auth {
	return Auth{
		MinPasswordLength: 15, Argon2Time: 2, Argon2MemoryKiB: 19456, Argon2Threads: 1,
		MaxConcurrentHashes:    2,
		SessionIdleTimeout:     Duration(15 * 60e9),
		SessionAbsoluteTimeout: Duration(12 * 3600e9),
		ReauthWindow:           Duration(5 * 60e9),
		SetupCodeLifetime:      Duration(30 * 60e9),
		AccountMaxDelay:        Duration(30e9),
		SourceMaxDelay:         Duration(15 * 60e9),
		MaxConsecutiveFailures: 100,
	}
}

func (a *Auth) validate() []FieldError {
	const m, h, s = Duration(60e9), Duration(3600e9), Duration(1e9)
	var errs []FieldError
	errs = append(errs, inRange("auth.min_password_length", a.MinPasswordLength, 8, 64)...)
	errs = append(errs, inRange("auth.argon2_time", int(a.Argon2Time), 1, 10)...)
	errs = append(errs, inRange("auth.argon2_memory_kib", int(a.Argon2MemoryKiB), 19456, 262144)...)
	errs = append(errs, inRange("auth.argon2_threads", int(a.Argon2Threads), 1, 4)...)
	errs = append(errs, inRange("auth.max_concurrent_hashes", a.MaxConcurrentHashes, 1, 16)...)
	errs = append(errs, inRange("auth.session_idle_timeout", a.SessionIdleTimeout, m, 60*m)...)
	errs = append(errs, inRange("auth.session_absolute_timeout", a.SessionAbsoluteTimeout, h, 24*h)...)
	errs = append(errs, inRange("auth.reauth_window", a.ReauthWindow, m, 15*m)...)
	errs = append(errs, inRange("auth.setup_code_lifetime", a.SetupCodeLifetime, 5*m, 30*m)...)
	errs = append(errs, inRange("auth.account_max_delay", a.AccountMaxDelay, s, 60*s)...)
	errs = append(errs, inRange("auth.source_max_delay", a.SourceMaxDelay, m, h)...)
	errs = append(errs, inRange("auth.max_consecutive_failures", a.MaxConsecutiveFailures, 10, 100)...)
	return errs
}
