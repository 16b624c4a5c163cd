package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medguard/medguard/internal/sbom"
	"github.com/medguard/medguard/internal/vuln"
	"github.com/openvex/go-vex/pkg/vex"
)

// The Identify side (docs/identify.md): vulnerability matching of SBOMs
// against an offline OSV database, portfolio monitoring and triage.

func init() {
	register(&command{
		name:    "vuln scan",
		summary: "match SBOMs against an offline OSV vulnerability database",
		usage:   "medguard vuln scan --db DIR|ZIP [--db …] [--format table|json|sarif] [--json] [--fail-on-findings] SBOM…",
		example: "medguard vuln scan --db ./osv-go --format sarif monitor-1.4.0.cdx.json > scan.sarif",
		run:     runVulnScan,
	})
	register(&command{
		name:    "vuln watch",
		summary: "match every released product's SBOM against the feed, with triage and what is new since the last run",
		usage:   "medguard vuln watch --products DIR --db DIR|ZIP [--db …] [--triage FILE] [--state FILE] [--reach EXE --reach-product PURL --govulndb URL] [--all] [--json]",
		example: "medguard vuln watch --products ./released --db ./osv-go --triage triage.vex.json --state watch-state.json",
		run:     runVulnWatch,
	})
	register(&command{
		name:    "vuln triage",
		summary: "record a triage decision (OpenVEX) for a vulnerability in a component of a release",
		usage:   "medguard vuln triage --triage FILE --product PURL --component PURL --vuln ID --status affected|not_affected|fixed|under_investigation [--justification J] [--impact TEXT] [--action TEXT] [--author NAME] [--db DIR]",
		example: "medguard vuln triage --triage triage.vex.json --product pkg:generic/acme/monitor@1.4.0 \\\n" +
			"  --component pkg:golang/golang.org/x/net@v0.17.0 --vuln GO-2023-2102 --status not_affected \\\n" +
			"  --justification vulnerable_code_not_in_execute_path --impact \"the monitor serves no HTTP/2\" --author \"Acme PSIRT\"",
		run: runVulnTriage,
	})
}

// idnList is a repeatable string flag.
type idnList []string

func (l *idnList) String() string     { return strings.Join(*l, ",") }
func (l *idnList) Set(v string) error { *l = append(*l, v); return nil }

// idnWrite writes data to path atomically, or to stdout for "" or "-".
func idnWrite(e *env, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := e.stdout.Write(data)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func runVulnScan(ctx context.Context, e *env, args []string) error {
	fs := newFlags("vuln scan")
	var dbs idnList
	fs.Var(&dbs, "db", "OSV database: directory or zip of OSV JSON records (repeatable)")
	format := fs.String("format", "table", "table, json or sarif")
	asJSON := fs.Bool("json", false, "same as --format json")
	failOn := fs.Bool("fail-on-findings", false, "exit 1 when anything is found")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(dbs) == 0 || len(files) == 0 {
		return usagef("vuln scan needs --db and at least one SBOM")
	}
	if *asJSON {
		*format = "json"
	}
	write := map[string]func(io.Writer, []vuln.Result) error{"table": vuln.WriteTable, "json": vuln.WriteJSON, "sarif": vuln.WriteSARIF}[*format]
	if write == nil {
		return usagef("--format must be table, json or sarif, not %q", *format)
	}
	db, err := vuln.Open(dbs...)
	if err != nil {
		return err
	}
	docs := make([]vuln.NamedDocument, 0, len(files))
	for _, f := range files {
		d, err := sbom.ReadFile(f)
		if err != nil {
			return err
		}
		docs = append(docs, vuln.NamedDocument{Name: f, Doc: d})
	}
	results := db.Scan(docs)
	if err := write(e.stdout, results); err != nil {
		return err
	}
	n := 0
	for _, r := range results {
		n += len(r.Findings)
	}
	if *failOn && n > 0 {
		return &exitError{code: exitTampered, err: fmt.Errorf("%d vulnerability finding(s)", n)}
	}
	return nil
}

// watchInput loads what watch, advisories and triage share.
type watchInput struct {
	db        *vuln.DB
	portfolio *vuln.Portfolio
	triage    *vuln.Triage
}

func loadWatch(products string, dbs []string, triageFile string) (*watchInput, error) {
	db, err := vuln.Open(dbs...)
	if err != nil {
		return nil, err
	}
	p, err := vuln.LoadPortfolio(products)
	if err != nil {
		return nil, err
	}
	if len(p.Releases) == 0 {
		return nil, fmt.Errorf("load products %s: no SBOM (*%s) found", products, strings.Join(vuln.SBOMSuffixes, ", *"))
	}
	var tri *vuln.Triage
	if triageFile != "" {
		if tri, err = vuln.LoadTriage(triageFile, "", time.Now()); err != nil {
			return nil, err
		}
	}
	return &watchInput{db: db, portfolio: p, triage: tri}, nil
}

func runVulnWatch(ctx context.Context, e *env, args []string) error {
	fs := newFlags("vuln watch")
	var dbs idnList
	fs.Var(&dbs, "db", "OSV database: directory or zip (repeatable)")
	products := fs.String("products", "", "directory of released products' SBOMs (*.cdx.json, *.spdx.json)")
	triageFile := fs.String("triage", "", "triage decisions (OpenVEX file)")
	state := fs.String("state", "", "file remembering the last run, for what is new")
	reachExe := fs.String("reach", "", "Go executable to check with govulncheck for reachability proposals")
	reachProduct := fs.String("reach-product", "", "product package URL of the release that executable belongs to")
	govulndb := fs.String("govulndb", "", "Go vulnerability database URL for --reach (file:///… for an offline copy)")
	all := fs.Bool("all", false, "also list findings that triage suppresses")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *products == "" || len(dbs) == 0 {
		return usagef("vuln watch needs --products and --db")
	}
	if *reachExe != "" && (*reachProduct == "" || *govulndb == "") {
		return usagef("--reach needs --reach-product and --govulndb")
	}
	in, err := loadWatch(*products, dbs, *triageFile)
	if err != nil {
		return err
	}
	prev := map[string]bool{}
	if *state != "" {
		if prev, err = vuln.LoadWatchState(*state); err != nil {
			return err
		}
	}
	found, err := in.portfolio.Watch(in.db, in.triage, prev)
	if err != nil {
		return err
	}
	if *reachExe != "" {
		reach, err := vuln.Reachability(ctx, *reachExe, *govulndb)
		if err != nil {
			return err
		}
		vuln.ProposeFromReach(found, *reachProduct, reach)
	}
	if *state != "" {
		if err := vuln.SaveWatchState(*state, time.Now(), found); err != nil {
			return err
		}
	}
	shown := found[:0:0]
	for _, f := range found {
		if *all || !f.Suppressed() {
			shown = append(shown, f)
		}
	}
	unchecked := in.portfolio.Unchecked()
	if *asJSON {
		return writeJSON(e.stdout, struct {
			Releases  int                       `json:"releases"`
			Findings  []vuln.WatchFinding       `json:"findings"`
			Unchecked []vuln.PortfolioUnchecked `json:"unchecked,omitempty"`
		}{len(in.portfolio.Releases), shown, unchecked})
	}
	// A component that cannot be matched is a vulnerability that cannot be
	// found: say so, never look clean.
	for _, u := range unchecked {
		fmt.Fprintf(e.stderr, "warning: %s: %s not checked: %s\n", u.SBOM, u.Component, u.Reason)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NEW\tPRODUCT\tCOMPONENT\tVULNERABILITY\tSTATUS\tPROPOSAL")
	newN := 0
	for _, f := range shown {
		mark := ""
		if f.New {
			mark, newN = "new", newN+1
		}
		st := f.Status
		if f.Stale {
			st += " (stale: record changed)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, f.Product, f.Finding.Component, f.Finding.ID, st, f.Proposal)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%d release(s), %d finding(s) shown (%d new), %d suppressed by triage\n", len(in.portfolio.Releases), len(shown), newN, len(found)-len(shown))
	return nil
}

func runVulnTriage(ctx context.Context, e *env, args []string) error {
	fs := newFlags("vuln triage")
	file := fs.String("triage", "", "triage file (OpenVEX), created if missing")
	product := fs.String("product", "", "the release's product package URL")
	component := fs.String("component", "", "the component's package URL, with version")
	id := fs.String("vuln", "", "vulnerability id (GO-, CVE-, GHSA- …)")
	status := fs.String("status", "", "affected, not_affected, fixed or under_investigation")
	just := fs.String("justification", "", "for not_affected: "+strings.Join(vex.Justifications(), ", "))
	impact := fs.String("impact", "", "for not_affected: why")
	action := fs.String("action", "", "for affected: what to do")
	author := fs.String("author", "", "who decides")
	var dbs idnList
	fs.Var(&dbs, "db", "OSV database, to record the vulnerability's aliases (optional, repeatable)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" || *product == "" || *component == "" || *id == "" || *status == "" {
		return usagef("vuln triage needs --triage, --product, --component, --vuln and --status")
	}
	if !vex.Status(*status).Valid() {
		return usagef("--status %q is not one of %s", *status, strings.Join(vex.Statuses(), ", "))
	}
	if *just != "" && !vex.Justification(*just).Valid() {
		return usagef("--justification %q is not one of %s", *just, strings.Join(vex.Justifications(), ", "))
	}
	d := vuln.Decision{Vulnerability: *id, Product: *product, Component: *component, Status: vex.Status(*status),
		Justification: vex.Justification(*just), Impact: *impact, Action: *action, Author: *author, Time: time.Now()}
	if len(dbs) > 0 {
		db, err := vuln.Open(dbs...)
		if err != nil {
			return err
		}
		ids := db.Aliases(*id)
		d.Aliases = ids[1:]
		if ids[0] != *id {
			d.Vulnerability, d.Aliases = ids[0], append([]string{*id}, without(ids[1:], *id)...)
		}
	}
	tri, err := vuln.LoadTriage(*file, *author, time.Now())
	if err != nil {
		return err
	}
	if err := tri.Add(d); err != nil {
		return usagef("%v", err)
	}
	if err := tri.Save(*file); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "recorded %s %s for %s in %s\n", d.Vulnerability, d.Status, d.Component, d.Product)
	return nil
}

func without(xs []string, x string) []string {
	var out []string
	for _, y := range xs {
		if y != x {
			out = append(out, y)
		}
	}
	return out
}
