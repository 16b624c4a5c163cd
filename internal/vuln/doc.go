// Package vuln matches the components of medguard releases against an
// offline OSV vulnerability database and keeps the triage of what it finds.
//
// The model: an OSV record names packages of an ecosystem ("Go",
// "Debian:12") and the versions of each that are affected, as ranges of
// events over the ecosystem's version order (SEMVER for Go, dpkg's order
// for Debian) or as explicit versions. A component of an SBOM is named by
// its package URL, which gives ecosystem, package and version; DB.Match
// turns the package URL into the OSV package, evaluates every range as the
// OSV specification says (introduced, fixed, last_affected, limit) and
// merges records that are aliases of each other (GO-, CVE-, GHSA-, DSA-
// ids) into one Finding. Withdrawn records never match.
//
// Portfolio monitoring runs every released product's SBOM against the feed:
// the Portfolio indexes releases by versionless package URL, so one record
// maps to every release that carries an affected version at once. Triage
// decisions are OpenVEX statements (Triage); a decision is bound to the
// exact component version it was made for and carried to later releases
// of the product until that component changes or the record is updated.
// Reachability (golang.org/x/vuln) may propose "vulnerable code not in
// execute path" for a person to confirm; it never decides.
package vuln
