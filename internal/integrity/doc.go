// Package integrity keeps the device's software a closed system: every
// executable, library and static configuration file under the software root
// is listed in a manifest signed by the device maker, and nothing that is
// not listed, or not identical to what is listed, may run.
//
// The model has three steps, each a check that fails closed:
//
//  1. Release (maker's build machine): Build walks the software root and
//     records, for every file, its path, size, mode, owner, SHA-256 and kind
//     (executable, library, configuration, data, documentation). Sign wraps
//     the manifest in a DSSE envelope signed by one or more Ed25519 release
//     keys. A release may need several signers (a threshold, e.g. two of
//     three).
//  2. Boot (device): Open checks the envelope against the trusted keys and
//     threshold of the device configuration and refuses a manifest whose
//     security version is below the floor (the highest accepted so far,
//     kept across restarts by a Floor). Verify then hashes every listed file
//     in parallel, from a file descriptor opened without following symbolic
//     links and without leaving the root (openat2 RESOLVE_BENEATH), and
//     reports missing, changed, hard-linked and unlisted files, new
//     setuid/setgid bits and paths that escape the root.
//  3. Run time: a Monitor reacts at once to inotify events for the root and
//     re-hashes everything continuously within a CPU budget, so that a
//     change made while the watcher was blind is still found within a
//     bounded time (about two passes: Checker.Stats().LastPass).
//
// Executables are started only through OpenExecutable: it copies the file
// into a sealed memfd, hashes the sealed copy and returns it, so that the
// caller (package supervisor) executes exactly the bytes that were verified;
// a swap of the file on disk between check and exec changes nothing.
//
// Security failures (bad signature, too few signers, rollback, tampering)
// are *SecurityError values, never plain I/O errors, so that no caller can
// mistake one for the other. IEC 62443-4-2 CR 3.4 (software and information
// integrity), CR 3.14 (integrity of the boot process) and EDR 3.12 (provisioning
// product supplier roots of trust) are the requirements this package serves.
package integrity
