// Package disclosure writes the device's RFC 9116 security.txt: how
// security researchers reach the maker's product security team. The daemon
// serves it at /.well-known/security.txt from the [disclosure] table of its
// configuration; `medguard advisory security-txt` writes the same file for
// the maker's web site. It is kept apart from package advisory so that the
// daemon does not carry the CSAF and VEX libraries.
package disclosure
