// Package api serves medguard to the outside: the HTTPS API with the
// embedded web console for admins and the CLI, and the local API on a unix
// socket for the clinical application on the device.
//
// The model:
//
//   - One route table. Every route declares the auth.Permission it needs;
//     a request reaches its handler only after authentication (session
//     cookie, bearer token, or a client certificate) and authorization
//     against that permission (deny by default, IEC 62443-4-2 CR 2.1). A
//     test walks the table.
//   - Until the device is provisioned (an admin exists) only the routes
//     marked for provisioning answer — setup, status, the console's files;
//     every other one answers "not_provisioned".
//   - TLS 1.3 only, no plaintext listener; HSTS, a strict Content Security
//     Policy and the usual headers on every answer; limits on header size,
//     body size and time for every request; errors are JSON with a stable
//     code and a message for a person.
//   - Cookie sessions (__Host- cookie, Secure, HttpOnly, SameSite=Strict)
//     must send the session's CSRF token in X-CSRF-Token with every
//     state-changing request; bearer tokens (the CLI) need not.
//   - The local API listens on a unix socket and serves only peers whose
//     user id, read with SO_PEERCRED, is allowed.
//
// Other parts add their routes with (*Server).Handle before Run, each with
// its permission, and read the caller with PrincipalFrom.
package api
