package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/mds2"
	"github.com/medguard/medguard/internal/sbom"
)

// The MDS2 form (docs/identify.md).

func init() {
	register(&command{
		name:    "mds2",
		summary: "fill the MDS2 form from the device configuration, the build and the SBOM; the rest is marked for a person",
		usage:   "medguard mds2 [--config FILE] [--sbom FILE] [--id DOCUMENT-ID] [--format json|csv|html] [--json] [--out FILE]",
		example: "medguard mds2 --config /etc/medguard/medguard.toml --sbom monitor-1.4.0.cdx.json --id ACME-MDS2-1.4.0 --format html --out mds2.html",
		run:     runMDS2,
	})
}

func runMDS2(ctx context.Context, e *env, args []string) error {
	fs := newFlags("mds2")
	cfgFile := fs.String("config", "", "device configuration (default: the defaults)")
	sbomFile := fs.String("sbom", "", "the release SBOM")
	id := fs.String("id", "", "document id (default MDS2-DATE)")
	format := fs.String("format", "html", "json, csv or html")
	asJSON := fs.Bool("json", false, "same as --format json")
	out := fs.String("out", "", "output file (default stdout)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *asJSON {
		*format = "json"
	}
	if *format != "json" && *format != "csv" && *format != "html" {
		return usagef("--format must be json, csv or html")
	}
	now := time.Now()
	f := &mds2.Facts{Config: config.Default(), ConfigSource: "defaults", Features: mds2.DefaultFeatures(), DocumentID: *id, Now: now}
	if f.DocumentID == "" {
		f.DocumentID = "MDS2-" + now.UTC().Format("2006-01-02")
	}
	if *cfgFile != "" {
		c, err := config.Load(*cfgFile)
		if err != nil {
			return err
		}
		f.Config, f.ConfigSource = c, *cfgFile
	}
	if *sbomFile != "" {
		d, err := sbom.ReadFile(*sbomFile)
		if err != nil {
			return err
		}
		f.SBOM, f.SBOMFile = d, *sbomFile
	}
	c, err := mds2.LoadCatalogue()
	if err != nil {
		return err
	}
	form, err := mds2.Fill(c, f)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	switch *format {
	case "json":
		err = form.WriteJSON(&b)
	case "csv":
		err = form.WriteCSV(&b)
	default:
		err = form.WriteHTML(&b)
	}
	if err != nil {
		return err
	}
	if err := idnWrite(e, *out, b.Bytes()); err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(e.stderr, "%s: %d answered from configuration and build, %d for a person\n", *out, form.Answered, form.ForPerson)
	}
	return nil
}
