package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/medguard/medguard/internal/advisory"
	"github.com/medguard/medguard/internal/sbom"
	"github.com/medguard/medguard/internal/vuln"
)

// Advisories (docs/identify.md): CSAF 2.0, OpenVEX, CycloneDX VEX, and the
// RFC 9116 security.txt.

func init() {
	register(&command{
		name:    "advisory csaf",
		summary: "write a CSAF 2.0 advisory (csaf_security_advisory or csaf_vex) from the triage, validated offline",
		usage: "medguard advisory csaf --profile security_advisory|vex --products DIR --db DIR [--db …] --triage FILE\n" +
			"  --id TRACKING-ID --title TITLE --publisher NAME --namespace https://… [--contact TEXT] [--vuln ID …]\n" +
			"  [--version N] [--status final|interim|draft] [--summary TEXT] [--out FILE]",
		example: "medguard advisory csaf --profile vex --products ./released --db ./osv-go --triage triage.vex.json \\\n" +
			"  --id ACME-VEX-2026-0001 --title \"x/net in Acme monitors\" --publisher \"Acme Medical\" \\\n" +
			"  --namespace https://acme.example --vuln GO-2023-2102 --out acme-vex-2026-0001.json",
		run: runAdvisoryCSAF,
	})
	register(&command{
		name:    "advisory openvex",
		summary: "write the triage of findings as an OpenVEX document",
		usage:   "medguard advisory openvex --products DIR --db DIR [--db …] --triage FILE --author NAME [--id IRI] [--vuln ID …] [--out FILE]",
		example: "medguard advisory openvex --products ./released --db ./osv-go --triage triage.vex.json --author \"Acme PSIRT\" --out acme.openvex.json",
		run:     runAdvisoryOpenVEX,
	})
	register(&command{
		name:    "advisory cyclonedx-vex",
		summary: "write the triage of one release's findings as a CycloneDX 1.6 VEX document",
		usage:   "medguard advisory cyclonedx-vex --sbom FILE --db DIR [--db …] [--triage FILE] [--out FILE]",
		example: "medguard advisory cyclonedx-vex --sbom monitor-1.4.0.cdx.json --db ./osv-go --triage triage.vex.json --out monitor-1.4.0.vex.cdx.json",
		run:     runAdvisoryCDXVEX,
	})
	register(&command{
		name:    "advisory validate",
		summary: "check a CSAF 2.0 document against the schema and the mandatory tests, offline; exit 1 if invalid",
		usage:   "medguard advisory validate [--json] FILE",
		example: "medguard advisory validate acme-vex-2026-0001.json",
		run:     runAdvisoryValidate,
	})
	register(&command{
		name:    "advisory security-txt",
		summary: "write the RFC 9116 security.txt that the device serves at /.well-known/security.txt",
		usage:   "medguard advisory security-txt --contact URI [--contact …] [--expires YYYY-MM-DD] [--policy URL] [--encryption URL] [--acknowledgments URL] [--canonical URL] [--csaf URL] [--languages \"en, de\"] [--out FILE]",
		example: "medguard advisory security-txt --contact mailto:psirt@acme.example --expires 2027-06-30 \\\n" +
			"  --policy https://acme.example/security --csaf https://acme.example/.well-known/csaf/provider-metadata.json",
		run: runSecurityTxt,
	})
}

// findingsFor runs the watch and keeps the findings of the given ids
// (all, if none given).
func findingsFor(in *watchInput, ids []string) ([]vuln.WatchFinding, error) {
	all, err := in.portfolio.Watch(in.db, in.triage, nil)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		for _, a := range in.db.Aliases(id) {
			want[a] = true
		}
	}
	var out []vuln.WatchFinding
	for _, f := range all {
		if want[f.Finding.ID] {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no released product is affected by %v", ids)
	}
	return out, nil
}

func runAdvisoryCSAF(ctx context.Context, e *env, args []string) error {
	fs := newFlags("advisory csaf")
	var dbs, ids idnList
	fs.Var(&dbs, "db", "OSV database (repeatable)")
	fs.Var(&ids, "vuln", "vulnerability to cover (repeatable; default: all findings)")
	profile := fs.String("profile", "", "security_advisory or vex")
	products := fs.String("products", "", "directory of released products' SBOMs")
	triageFile := fs.String("triage", "", "triage decisions (OpenVEX)")
	o := advisory.Options{}
	fs.StringVar(&o.TrackingID, "id", "", "tracking id")
	fs.StringVar(&o.Title, "title", "", "title")
	fs.StringVar(&o.Publisher.Name, "publisher", "", "publisher name")
	fs.StringVar(&o.Publisher.Namespace, "namespace", "", "publisher namespace (https URL)")
	fs.StringVar(&o.Publisher.ContactDetails, "contact", "", "PSIRT contact")
	fs.IntVar(&o.Version, "version", 1, "document version")
	fs.StringVar(&o.Status, "status", "final", "final, interim or draft")
	fs.StringVar(&o.Summary, "summary", "", "summary note")
	out := fs.String("out", "", "output file (default stdout)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	switch *profile {
	case "security_advisory", "vex":
		o.Profile = "csaf_" + *profile
	default:
		return usagef("--profile must be security_advisory or vex")
	}
	if *products == "" || len(dbs) == 0 || *triageFile == "" {
		return usagef("advisory csaf needs --products, --db and --triage")
	}
	in, err := loadWatch(*products, dbs, *triageFile)
	if err != nil {
		return err
	}
	if o.Findings, err = findingsFor(in, ids); err != nil {
		return err
	}
	o.Now = time.Now()
	o.Records = in.db.Record
	data, err := advisory.Build(o)
	if err != nil {
		return err
	}
	return idnWrite(e, *out, append(data, '\n'))
}

func runAdvisoryOpenVEX(ctx context.Context, e *env, args []string) error {
	fs := newFlags("advisory openvex")
	var dbs, ids idnList
	fs.Var(&dbs, "db", "OSV database (repeatable)")
	fs.Var(&ids, "vuln", "vulnerability to cover (repeatable)")
	products := fs.String("products", "", "directory of released products' SBOMs")
	triageFile := fs.String("triage", "", "triage decisions (OpenVEX)")
	author := fs.String("author", "", "author of the statements")
	id := fs.String("id", "", "document IRI (default urn:medguard:vex:TIME)")
	out := fs.String("out", "", "output file (default stdout)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *products == "" || len(dbs) == 0 || *triageFile == "" || *author == "" {
		return usagef("advisory openvex needs --products, --db, --triage and --author")
	}
	in, err := loadWatch(*products, dbs, *triageFile)
	if err != nil {
		return err
	}
	fsd, err := findingsFor(in, ids)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if *id == "" {
		*id = "urn:medguard:vex:" + now.Format("20060102T150405Z")
	}
	data, err := advisory.OpenVEX(*author, *id, now, fsd)
	if err != nil {
		return err
	}
	return idnWrite(e, *out, data)
}

func runAdvisoryCDXVEX(ctx context.Context, e *env, args []string) error {
	fs := newFlags("advisory cyclonedx-vex")
	var dbs idnList
	fs.Var(&dbs, "db", "OSV database (repeatable)")
	sbomFile := fs.String("sbom", "", "the release's SBOM")
	triageFile := fs.String("triage", "", "triage decisions (OpenVEX)")
	out := fs.String("out", "", "output file (default stdout)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *sbomFile == "" || len(dbs) == 0 {
		return usagef("advisory cyclonedx-vex needs --sbom and --db")
	}
	db, err := vuln.Open(dbs...)
	if err != nil {
		return err
	}
	doc, err := sbom.ReadFile(*sbomFile)
	if err != nil {
		return err
	}
	var tri *vuln.Triage
	if *triageFile != "" {
		if tri, err = vuln.LoadTriage(*triageFile, "", time.Now()); err != nil {
			return err
		}
	}
	p := vuln.NewPortfolio([]vuln.Release{{SBOM: *sbomFile, Product: doc.Product.PURL, Doc: doc}})
	found, err := p.Watch(db, tri, nil)
	if err != nil {
		return err
	}
	data, err := advisory.CycloneDXVEX(doc, time.Now(), found)
	if err != nil {
		return err
	}
	return idnWrite(e, *out, data)
}

func runAdvisoryValidate(ctx context.Context, e *env, args []string) error {
	fs := newFlags("advisory validate")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("advisory validate needs one FILE")
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("read %s: %w", pos[0], err)
	}
	verr := advisory.Validate(data)
	var inv *advisory.InvalidError
	if verr != nil && !errors.As(verr, &inv) {
		return verr
	}
	if *asJSON {
		probs := []advisory.Problem{}
		if inv != nil {
			probs = inv.Problems
		}
		if err := writeJSON(e.stdout, map[string]any{"ok": inv == nil, "problems": probs, "tests": advisory.MandatoryTests}); err != nil {
			return err
		}
	} else if inv != nil {
		for _, p := range inv.Problems {
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", p.Test, p.Path, p.Msg)
		}
	} else {
		fmt.Fprintf(e.stdout, "valid: CSAF 2.0 schema and %d mandatory tests\n", len(advisory.MandatoryTests))
	}
	if inv != nil {
		return &exitError{code: exitTampered, err: fmt.Errorf("%s: %d problem(s)", pos[0], len(inv.Problems))}
	}
	return nil
}

func runSecurityTxt(ctx context.Context, e *env, args []string) error {
	fs := newFlags("advisory security-txt")
	var o advisory.SecurityTxtOptions
	var contact, enc, policy, ack, canon, csafURL idnList
	fs.Var(&contact, "contact", "mailto:, https: or tel: URI (repeatable, preferred first)")
	fs.Var(&enc, "encryption", "https URL of the OpenPGP key")
	fs.Var(&policy, "policy", "https URL of the disclosure policy")
	fs.Var(&ack, "acknowledgments", "https URL of the acknowledgments page")
	fs.Var(&canon, "canonical", "https URL where the file is published")
	fs.Var(&csafURL, "csaf", "https URL of the CSAF provider-metadata.json")
	expires := fs.String("expires", "", "date YYYY-MM-DD, within a year (default: in 180 days)")
	fs.StringVar(&o.PreferredLanguages, "languages", "", "preferred languages, e.g. \"en, de\"")
	out := fs.String("out", "", "output file (default stdout)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	t := time.Now().UTC().AddDate(0, 0, 180).Truncate(24 * time.Hour)
	if *expires != "" {
		var err error
		if t, err = time.Parse(time.DateOnly, *expires); err != nil {
			return usagef("--expires must be a date YYYY-MM-DD")
		}
	}
	o.Contact, o.Encryption, o.Policy, o.Acknowledgments, o.Canonical, o.CSAF = contact, enc, policy, ack, canon, csafURL
	o.Expires = t.Add(23*time.Hour + 59*time.Minute + 59*time.Second)
	txt, err := advisory.SecurityTxt(o, time.Now())
	if err != nil {
		return usagef("%v", err)
	}
	return idnWrite(e, *out, []byte(txt))
}
