// Package advisory turns the maker's triage of vulnerabilities into the
// documents that go out to hospitals: CSAF 2.0 advisories (profiles
// csaf_security_advisory and csaf_vex), OpenVEX and CycloneDX VEX, and the
// RFC 9116 security.txt that tells researchers where to report.
//
// The model: an advisory covers one or more vulnerabilities (findings
// merged over their aliases) and the product releases they were matched
// in; each release's status comes from the triage (vuln.WatchFinding):
// affected, not affected (with the justification), fixed or under
// investigation. The CSAF product tree is built from the releases'
// package URLs, so that a hospital's tooling can match it to the SBOMs.
//
// A CSAF document is checked offline before it is published: against the
// CSAF 2.0 JSON schema (as embedded in github.com/gocsaf/csaf, kept behind
// this package) and against the mandatory tests of CSAF 2.0 §6.1 that
// Validate implements (listed in docs/identify.md). The gocsaf tools run
// the mandatory tests only through a remote validator service.
package advisory
