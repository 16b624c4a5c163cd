// Package auth decides who may do what on the device: named user accounts
// with one role each, their passwords, the sessions that carry a login, the
// throttling of guessing, and the one-time setup code that provisions a
// fresh device.
//
// The model:
//
//   - A fresh device has no account and no password (IEC 62443-4-2 CR 1.1,
//     no default credentials). While no admin exists, Auth hands out a
//     one-time setup code (100 bits, Crockford base32, valid 30 minutes,
//     single use, throttled); Setup takes it and creates the first admin.
//   - Every account has a unique name and a Role; a Role grants a set of
//     Permissions. Some permissions are Critical: they need an
//     authentication within the re-authentication window (ARCHITECTURE.md,
//     principle 10).
//   - Passwords follow NIST SP 800-63B-4: length only (15 code points by
//     default, never below 8, at least 64 allowed), no composition rules,
//     no expiry, a blocklist of common passwords, and no password that
//     contains the user name, the device name or the product name. They are
//     stored as argon2id PHC strings and re-hashed at login when the
//     configured cost changes.
//   - A login that succeeds yields a Session: a 256-bit random token that is
//     given to the client once and stored only as its SHA-256 hash. A session
//     ends when idle too long, when too old, at logout, and when its user's
//     password, role or account state changes.
//   - Guessing is throttled per (account, source), per source and per
//     account with growing delays; a throttled attempt is refused before any
//     hashing. Hashing runs under a concurrency cap: an attempt that finds
//     no free slot is refused at once, so a login flood cannot exhaust
//     memory. Unknown and known users get the same answer and the same work.
//
// Every decision is recorded as a security event (eventlog.Recorder) with the
// actor and the source.
package auth
