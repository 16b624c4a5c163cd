// Package sbom builds, writes, reads, checks and signs the software bill of
// materials of a medguard release.
//
// The model is one Document per release: the product and its release
// version are the subject; every component has a name, a version, a
// package URL (its unique identifier and the key for vulnerability
// matching), a supplier, hashes and, from the maker's support table, a
// support level and an end-of-support date (FDA premarket cybersecurity
// guidance). Dependencies are edges between component references.
//
// Components come from three sources:
//   - Go executables of the software tree: the build information that the
//     Go linker embeds (debug/buildinfo) names the main module, every module
//     linked in, with its checksum, and the toolchain (as pkg:golang/stdlib);
//   - a root filesystem's dpkg status file, for operating-system packages;
//   - every other file of the release (from the release manifest, or until
//     it is wired, a directory walk: see FileSource).
//
// A Document is written as CycloneDX 1.6 JSON and SPDX 2.3 JSON, and read
// back from either (Read) for vulnerability matching. Check is the
// completeness gate: it names every component that lacks an NTIA minimum
// element or an FDA field. Sign and Verify protect the written SBOM with an
// Ed25519 key, as a DSSE envelope or a detached signature.
package sbom
