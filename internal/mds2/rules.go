package mds2

import (
	"fmt"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/sbom"
)

// Evidence is what an answer rests on.
type Evidence struct {
	Kind  string `json:"kind"`  // "config", "feature" or "sbom"
	Ref   string `json:"ref"`   // configuration key, feature name or SBOM file
	Value string `json:"value"` // the value read, or where the feature lives
}

// evidence collects what a rule reads; a rule whose evidence is missing
// does not answer.
type evidence struct {
	f       *Facts
	list    []Evidence
	missing []string
}

func (e *evidence) config(key string) any {
	v, ok := ConfigValue(&e.f.Config, key)
	if !ok {
		e.missing = append(e.missing, "configuration key "+key)
		return nil
	}
	e.list = append(e.list, Evidence{"config", key, show(v) + " (" + e.f.ConfigSource + ")"})
	return v
}

func (e *evidence) feature(name string) bool {
	ft, ok := e.f.feature(name)
	if !ok {
		e.missing = append(e.missing, "feature "+name)
		return false
	}
	e.list = append(e.list, Evidence{"feature", name, ft.What + " (" + ft.Package + ", " + ft.Doc + ")"})
	return true
}

func (e *evidence) sbom() *sbom.Document {
	if e.f.SBOM == nil {
		e.missing = append(e.missing, "the release SBOM (--sbom)")
		return nil
	}
	e.list = append(e.list, Evidence{"sbom", e.f.SBOMFile, fmt.Sprintf("%d components", len(e.f.SBOM.Components))})
	return e.f.SBOM
}

// Rule answers one question. answer returns the value ("Yes", "No",
// "N/A" or a short text) and a note; it is not called with missing
// evidence (the evidence methods return zero values then, and the answer
// is discarded).
type Rule struct {
	ID     string
	answer func(e *evidence) (value, note string)
}

func yesIf(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// Rules is the mapping table: question id → how the configuration, the
// build's features or the SBOM answer it.
var Rules = []Rule{
	{"DOC-1", func(e *evidence) (string, string) {
		if d := e.sbom(); d != nil {
			return d.Product.Supplier, "supplier of the release SBOM's subject"
		}
		return "", ""
	}},
	{"DOC-3", func(e *evidence) (string, string) {
		if d := e.sbom(); d != nil {
			return d.Product.Name + " " + d.Product.Version, "product and release of the SBOM (" + d.Product.PURL + ")"
		}
		return "", ""
	}},
	{"DOC-4", func(e *evidence) (string, string) { return e.f.DocumentID, "" }},
	{"DOC-7", func(e *evidence) (string, string) { return e.f.Now.UTC().Format(time.DateOnly), "" }},
	{"DOC-8", func(e *evidence) (string, string) {
		e.feature("advisory")
		return "Yes", "SECURITY.md (ISO/IEC 29147/30111) and /.well-known/security.txt (RFC 9116) served by the device"
	}},
	{"ALOF-1", func(e *evidence) (string, string) {
		v, _ := e.config("auth.session_idle_timeout").(config.Duration)
		return yesIf(v > 0), "sessions end after " + time.Duration(v).String() + " without activity"
	}},
	{"ALOF-2", func(e *evidence) (string, string) {
		e.config("auth.session_idle_timeout")
		return "Yes", "set by auth.session_idle_timeout"
	}},
	{"AUDT-1", func(e *evidence) (string, string) {
		e.feature("eventlog")
		return "Yes", "medguard's security event log, apart from the operating system's logs"
	}},
	{"AUDT-1.1", func(e *evidence) (string, string) { e.feature("eventlog"); return "Yes", "every event has an actor" }},
	{"AUDT-1.2", func(e *evidence) (string, string) {
		e.feature("eventlog")
		return "No", "no patient data ever goes into an event (ARCHITECTURE.md, contracts)"
	}},
	{"AUDT-2", func(e *evidence) (string, string) { e.feature("eventlog"); return "Yes", "" }},
	{"AUDT-2.1", func(e *evidence) (string, string) {
		e.feature("auth")
		e.feature("eventlog")
		return "Yes", "category auth"
	}},
	{"AUDT-2.2", func(e *evidence) (string, string) {
		e.feature("auth")
		e.feature("eventlog")
		return "Yes", "category auth"
	}},
	{"AUDT-2.3", func(e *evidence) (string, string) {
		e.feature("auth")
		e.feature("eventlog")
		return "Yes", "role changes, category access"
	}},
	{"AUDT-2.4", func(e *evidence) (string, string) {
		e.feature("auth")
		e.feature("eventlog")
		return "Yes", "category access"
	}},
	{"AUDT-2.8.2", func(e *evidence) (string, string) {
		e.feature("api")
		e.feature("eventlog")
		return "Yes", "refused and critical API requests"
	}},
	{"AUDT-2.10", func(e *evidence) (string, string) {
		e.feature("integrity")
		e.feature("eventlog")
		return "Yes", "software, integrity, configuration, network and health events"
	}},
	{"AUDT-4.1", func(e *evidence) (string, string) {
		e.feature("eventlog")
		return "Yes", "UTC, RFC 3339 with fractions"
	}},
	{"AUDT-5", func(e *evidence) (string, string) {
		d, _ := e.config("forward.destinations").([]config.ForwardDestination)
		return "Yes", fmt.Sprintf("forwarding to SIEMs; %d destination(s) configured", len(d))
	}},
	{"AUDT-5.2", func(e *evidence) (string, string) {
		e.feature("forward")
		return "No", "RFC 5424 over TLS (RFC 5425) and CEF, not the IHE ATNA profile"
	}},
	{"AUDT-5.3", func(e *evidence) (string, string) {
		e.config("forward.destinations")
		return "Yes", "syslog over TLS to the hospital's SIEM"
	}},
	{"AUDT-5.4", func(e *evidence) (string, string) {
		d, _ := e.config("forward.destinations").([]config.ForwardDestination)
		var vs []string
		for _, x := range d {
			vs = append(vs, x.Name+": TLS "+x.MinTLSVersion)
		}
		if len(vs) == 0 {
			return "Yes", "forwarding always uses TLS; no destination configured yet"
		}
		return "Yes", strings.Join(vs, "; ")
	}},
	{"AUDT-6", func(e *evidence) (string, string) { e.feature("eventlog"); return "Yes", "console and `medguard log`" }},
	{"AUDT-7", func(e *evidence) (string, string) {
		e.feature("eventlog")
		e.config("log.checkpoint_interval")
		return "Yes", "HMAC chain and signed checkpoints; `medguard log verify` names the first damaged event (IEC 62443-4-2 CR 3.9)"
	}},
	{"AUTH-1", func(e *evidence) (string, string) {
		e.feature("auth")
		return "Yes", "no default password; first admin set with a one-time setup code"
	}},
	{"AUTH-2", func(e *evidence) (string, string) { e.feature("auth"); return "Yes", "one role per account" }},
	{"AUTH-4", func(e *evidence) (string, string) {
		e.feature("api")
		e.config("api.client_roles")
		return "Yes", "every request authenticated and checked against the role's permissions"
	}},
	{"CSUP-11", func(e *evidence) (string, string) {
		e.feature("vuln")
		return "Yes", "every released product's SBOM is matched against published vulnerabilities (`medguard vuln watch`), triaged and published as CSAF/VEX"
	}},
	{"MLDP-4", func(e *evidence) (string, string) {
		e.feature("integrity")
		e.config("integrity.trusted_keys")
		return "Yes", "only executables listed in the signed manifest start"
	}},
	{"CONN-5", func(e *evidence) (string, string) {
		e.feature("api")
		e.config("api.listen")
		return "Yes", "HTTPS API"
	}},
	{"CONN-7", func(e *evidence) (string, string) { e.feature("api"); return "Yes", "TLS 1.3 only on the API" }},
	{"CONN-7.1", func(e *evidence) (string, string) {
		e.config("forward.destinations")
		return "Yes", "certificates and, for SIEM forwarding, the minimum TLS version; never below the secure default without a logged change"
	}},
	{"NAUT-3", func(e *evidence) (string, string) {
		ca, _ := e.config("api.client_ca_file").(string)
		if ca == "" {
			return "Yes", "server certificates; client certificates supported once api.client_ca_file is set"
		}
		return "Yes", "client certificates required against " + ca
	}},
	{"PAUT-1", func(e *evidence) (string, string) {
		e.feature("auth")
		return "Yes", "named accounts only; no shared or default account"
	}},
	{"PAUT-1.1", func(e *evidence) (string, string) { e.feature("auth"); return "Yes", "" }},
	{"PAUT-3", func(e *evidence) (string, string) {
		n, _ := e.config("auth.max_consecutive_failures").(int)
		return "Yes", fmt.Sprintf("after %d consecutive failures; growing delays per account and source before that", n)
	}},
	{"PAUT-4", func(e *evidence) (string, string) { e.feature("auth"); return "N/A", "there is no default account" }},
	{"PAUT-5", func(e *evidence) (string, string) { e.feature("auth"); return "Yes", "" }},
	{"PAUT-6", func(e *evidence) (string, string) {
		n, _ := e.config("auth.min_password_length").(int)
		return "Partly", fmt.Sprintf("minimum length %d (auth.min_password_length) and a common-password blocklist; no composition rules, by NIST SP 800-63B", n)
	}},
	{"PAUT-7", func(e *evidence) (string, string) {
		e.feature("auth")
		return "No", "no periodic expiry, by NIST SP 800-63B"
	}},
	{"PAUT-14", func(e *evidence) (string, string) { e.feature("auth"); return "Yes", "" }},
	{"PAUT-14.1", func(e *evidence) (string, string) {
		m, _ := e.config("auth.argon2_memory_kib").(uint32)
		return "Yes", fmt.Sprintf("argon2id password hashes (%d KiB); session tokens kept only as SHA-256 hashes", m)
	}},
	{"RDMP-4", func(e *evidence) (string, string) {
		d := e.sbom()
		if d == nil {
			return "", ""
		}
		n := 0
		for _, c := range d.Components {
			if c.EndOfSupport != "" {
				n++
			}
		}
		return yesIf(n == len(d.Components)), fmt.Sprintf("%d of %d components carry an end-of-support date (%s)", n, len(d.Components), sbom.PropEndOfSupport)
	}},
	{"SBOM-1", func(e *evidence) (string, string) {
		d := e.sbom()
		if d == nil {
			return "", ""
		}
		return "Yes", "signed CycloneDX 1.6 and SPDX 2.3 of release " + d.Product.Version
	}},
	{"SBOM-2", func(e *evidence) (string, string) {
		e.sbom()
		return "Yes", "CycloneDX 1.6 and SPDX 2.3, NTIA minimum elements checked"
	}},
	{"SBOM-2.1", sbomAll("package URL", func(c sbom.Component) bool { return c.PURL != "" })},
	{"SBOM-2.2", sbomAll("supplier", func(c sbom.Component) bool { return c.Supplier != "" })},
	{"SBOM-2.3", sbomAll("version", func(c sbom.Component) bool { return c.Version != "" })},
	{"SBOM-2.4", sbomAll("support level", func(c sbom.Component) bool { return c.SupportLevel != "" })},
	{"SBOM-3", func(e *evidence) (string, string) {
		e.feature("sbom")
		return "Yes", "`medguard release sbom` lists every executable, Go module, OS package and file"
	}},
	{"SBOM-4", func(e *evidence) (string, string) { e.feature("sbom"); return "Yes", "a new SBOM with every release" }},
	{"SAHD-3", func(e *evidence) (string, string) { e.feature("integrity"); return "Yes", "" }},
	{"SAHD-3.1", func(e *evidence) (string, string) {
		keys, _ := e.config("integrity.trusted_keys").([]string)
		return "Yes", fmt.Sprintf("Ed25519-signed manifest with SHA-256 of every file; %d trusted key(s)", len(keys))
	}},
	{"SAHD-4", func(e *evidence) (string, string) { e.feature("integrity"); return "Yes", "`medguard manifest verify`" }},
	{"SAHD-5.1", func(e *evidence) (string, string) { e.feature("auth"); return "Yes", "" }},
	{"SAHD-6", func(e *evidence) (string, string) { e.feature("auth"); return "Yes", "no account exists on delivery" }},
	{"SGUD-3", func(e *evidence) (string, string) { e.feature("auth"); return "Yes", "there are no built-in accounts" }},
	{"STCF-1", func(e *evidence) (string, string) {
		b, _ := e.config("keystore.backend").(string)
		return "Yes", "device secrets sealed by the " + b + " backend; secret values in the state store encrypted"
	}},
	{"STCF-1.2", func(e *evidence) (string, string) { e.config("keystore.backend"); return "Yes", "" }},
	{"TXCF-2", func(e *evidence) (string, string) {
		e.feature("api")
		e.feature("forward")
		return "Yes", "TLS on every network connection"
	}},
	{"TXCF-4", func(e *evidence) (string, string) {
		e.feature("api")
		return "Yes", "every API request is authenticated"
	}},
	{"TXIG-1", func(e *evidence) (string, string) {
		e.feature("api")
		e.feature("forward")
		return "Yes", "TLS (AEAD) on every connection; signed updates, manifests and checkpoints"
	}},
}

// sbomAll answers "are all components' X identified" from the SBOM.
func sbomAll(what string, ok func(sbom.Component) bool) func(e *evidence) (string, string) {
	return func(e *evidence) (string, string) {
		d := e.sbom()
		if d == nil {
			return "", ""
		}
		var missing []string
		for _, c := range d.Components {
			if !ok(c) {
				missing = append(missing, c.Ref)
			}
		}
		if len(missing) == 0 {
			return "Yes", fmt.Sprintf("all %d components have a %s", len(d.Components), what)
		}
		if len(missing) > 3 {
			missing = append(missing[:3], "…")
		}
		return "No", fmt.Sprintf("%d of %d components lack a %s: %s", len(missing), len(d.Components), what, strings.Join(missing, ", "))
	}
}
