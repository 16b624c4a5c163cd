// Package supervisor starts the device's clinical application and its
// helpers, and only ever starts verified executables.
//
// The list of programs (path, arguments, environment, restart policy) is
// itself signed configuration: a TOML file in the software root, listed in
// the signed manifest and read through the integrity checker, so the bytes
// parsed are the bytes verified. Nothing from the daemon's own environment
// or command line reaches a program.
//
// To start a program the supervisor asks the Verifier (package integrity)
// for a sealed, verified copy of the executable: an open memfd whose
// content was hashed after it was sealed. It then executes that file
// descriptor through /proc/self/fd/N (what fexecve does): the kernel runs
// exactly the bytes that were verified, so replacing or rewriting the file
// on disk between the check and the exec changes nothing. Every restart
// verifies again; a program that fails verification is not started and is
// not retried.
//
// Programs run in their own process group and are stopped cleanly: SIGTERM
// to the group, then SIGKILL after the program's stop timeout. A program
// that exits is restarted by its policy ("always", "on-failure", "never")
// with a doubling delay, at most max_restarts times within restart_window;
// past that the supervisor gives up and the device is not suitable.
//
// IEC 62443-4-2 CR 3.4 and SAR 3.2: only verified software runs.
package supervisor
