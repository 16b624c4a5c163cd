package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/medguard/medguard/internal/integrity"
	"github.com/medguard/medguard/internal/sbom"
)

// The release SBOM (docs/identify.md): CycloneDX 1.6 and SPDX 2.3, the
// completeness gate, and the Ed25519 signature.

func init() {
	register(&command{
		name:    "release sbom",
		summary: "write the signed SBOM (CycloneDX 1.6, SPDX 2.3) of a software tree; fails on a missing NTIA/FDA element",
		usage: "medguard release sbom --product NAME --version V --supplier ORG [--author ORG] [--purl PURL] [--support FILE]\n" +
			"  [--dpkg-status FILE --distro debian-12] [--out-cdx FILE] [--out-spdx FILE] [--key KEYFILE [--sign dsse|detached]]\n" +
			"  [--manifest ENVELOPE --manifest-key KEY] [--allow-incomplete] [--json] ROOT",
		example: "medguard release sbom --product monitor --version 1.4.0 --supplier \"Acme Medical\" --support support.json \\\n" +
			"  --dpkg-status rootfs/var/lib/dpkg/status --distro debian-12 --key sbom.key rootfs/opt/medguard",
		run: runReleaseSBOM,
	})
	register(&command{
		name:    "release sbom keygen",
		summary: "create an Ed25519 SBOM signing key (PEM) and its public key",
		usage:   "medguard release sbom keygen --out KEYFILE --pub PUBFILE",
		example: "medguard release sbom keygen --out sbom.key --pub sbom.pub",
		run:     runSBOMKeygen,
	})
	register(&command{
		name:    "release sbom verify",
		summary: "verify a signed SBOM (DSSE envelope or detached signature); exit 1 if the signature is bad",
		usage:   "medguard release sbom verify --pub PUBFILE [--sig SIGFILE] [--gate] [--out FILE] [--json] SBOM|ENVELOPE",
		example: "medguard release sbom verify --pub sbom.pub monitor-1.4.0.cdx.json.dsse.json\n" +
			"medguard release sbom verify --pub sbom.pub --sig monitor-1.4.0.cdx.json.sig monitor-1.4.0.cdx.json",
		run: runSBOMVerify,
	})
}

func runReleaseSBOM(ctx context.Context, e *env, args []string) error {
	fs := newFlags("release sbom")
	o := sbom.BuildOptions{}
	fs.StringVar(&o.Product, "product", "", "product name")
	fs.StringVar(&o.Version, "version", "", "release version")
	fs.StringVar(&o.Supplier, "supplier", "", "the maker")
	fs.StringVar(&o.Author, "author", "", "author of the SBOM data (default: supplier)")
	fs.StringVar(&o.ProductPURL, "purl", "", "product package URL (default pkg:generic/SUPPLIER/PRODUCT@VERSION)")
	fs.StringVar(&o.DpkgStatus, "dpkg-status", "", "dpkg status file of the root filesystem")
	fs.StringVar(&o.Distro, "distro", "", "distro qualifier of Debian package URLs, e.g. debian-12")
	support := fs.String("support", "", "support table (JSON): supplier, support level, end of support per package URL")
	outCDX := fs.String("out-cdx", "", "CycloneDX output (default PRODUCT-VERSION.cdx.json)")
	outSPDX := fs.String("out-spdx", "", "SPDX output (default PRODUCT-VERSION.spdx.json)")
	key := fs.String("key", "", "Ed25519 signing key (PEM); unsigned without it")
	sign := fs.String("sign", "dsse", "dsse (FILE.dsse.json) or detached (FILE.sig)")
	allow := fs.Bool("allow-incomplete", false, "write even if the completeness gate finds gaps (they are printed)")
	asJSON := fs.Bool("json", false, "print a JSON summary")
	manifest := fs.String("manifest", "", "signed release manifest (medguard release manifest) to take the file list from, instead of walking ROOT")
	manifestKey := fs.String("manifest-key", "", "release public key (or file) that must have signed --manifest")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || o.Product == "" || o.Version == "" || o.Supplier == "" {
		return usagef("release sbom needs --product, --version, --supplier and one ROOT")
	}
	if *sign != "dsse" && *sign != "detached" {
		return usagef("--sign must be dsse or detached")
	}
	if fi, err := os.Stat(pos[0]); err != nil || !fi.IsDir() {
		return fmt.Errorf("software tree %s: not a directory", pos[0])
	}
	if *support != "" {
		if o.Support, err = sbom.LoadSupportTable(*support); err != nil {
			return err
		}
	}
	var k *sbom.PrivateKey
	if *key != "" {
		if k, err = sbom.LoadPrivateKey(*key); err != nil {
			return err
		}
		defer k.Zero()
	}
	o.Files = sbom.Walk{Root: pos[0]}
	if *manifest != "" {
		if o.Files, err = manifestFiles(ctx, pos[0], *manifest, *manifestKey); err != nil {
			return err
		}
	}
	doc, err := sbom.Build(ctx, o)
	if err != nil {
		return err
	}
	gateErr := sbom.Check(doc)
	var inc *sbom.IncompleteError
	errors.As(gateErr, &inc)
	if gateErr != nil && !*allow {
		for _, g := range inc.Gaps {
			fmt.Fprintf(e.stderr, "gap: %s: no %s (%s)\n", g.Component, g.Field, g.Rule)
		}
		return &exitError{code: exitTampered, err: fmt.Errorf("completeness gate: %d missing element(s); nothing written (fix the support table, or --allow-incomplete)", len(inc.Gaps))}
	}
	base := o.Product + "-" + o.Version
	if *outCDX == "" {
		*outCDX = base + ".cdx.json"
	}
	if *outSPDX == "" {
		*outSPDX = base + ".spdx.json"
	}
	cdxData, err := sbom.CycloneDXBytes(doc)
	if err != nil {
		return err
	}
	spdxData, err := sbom.SPDXBytes(doc)
	if err != nil {
		return err
	}
	outputs := map[string][]byte{*outCDX: cdxData, *outSPDX: spdxData}
	if k != nil {
		for path, payloadType := range map[string]string{*outCDX: sbom.PayloadCycloneDX, *outSPDX: sbom.PayloadSPDX} {
			if *sign == "detached" {
				outputs[path+".sig"] = sbom.SignDetached(k, outputs[path])
				continue
			}
			env, err := sbom.SignEnvelope(ctx, k, payloadType, outputs[path])
			if err != nil {
				return err
			}
			outputs[path+".dsse.json"] = env
		}
	}
	var written []string
	for path, data := range outputs {
		if err := idnWrite(e, path, data); err != nil {
			return err
		}
		written = append(written, path)
	}
	gaps := 0
	if inc != nil {
		gaps = len(inc.Gaps)
		for _, g := range inc.Gaps {
			fmt.Fprintf(e.stderr, "gap: %s: no %s (%s)\n", g.Component, g.Field, g.Rule)
		}
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"product": doc.Product.PURL, "components": len(doc.Components), "gaps": gaps, "files": written, "signed": k != nil})
	}
	fmt.Fprintf(e.stdout, "%s: %d components, %d gap(s); wrote %s\n", doc.Product.PURL, len(doc.Components), gaps, strings.Join(sorted(written), ", "))
	return nil
}

// manifestFiles verifies a signed release manifest and lists its files.
func manifestFiles(ctx context.Context, root, file, keyArg string) (sbom.FileSource, error) {
	if keyArg == "" {
		return nil, usagef("--manifest needs --manifest-key")
	}
	ks := keyArg
	if !strings.HasPrefix(ks, "medguard-ed25519:") {
		b, err := os.ReadFile(keyArg)
		if err != nil {
			return nil, fmt.Errorf("read manifest key: %w", err)
		}
		ks = string(b)
	}
	k, err := integrity.ParsePublicKey(ks)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	v, err := integrity.OpenEnvelope(ctx, data, []integrity.PublicKey{k}, 1)
	if err != nil {
		if integrity.IsSecurity(err) {
			return nil, &exitError{code: exitTampered, err: fmt.Errorf("%s: %w", file, err)}
		}
		return nil, err
	}
	return sbom.FromManifest(root, v.Manifest), nil
}

func runSBOMKeygen(ctx context.Context, e *env, args []string) error {
	fs := newFlags("release sbom keygen")
	out := fs.String("out", "", "private key file (created, mode 0600)")
	pub := fs.String("pub", "", "public key file")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || *pub == "" {
		return usagef("release sbom keygen needs --out and --pub")
	}
	k, err := sbom.GenerateKey()
	if err != nil {
		return err
	}
	defer k.Zero()
	priv, err := k.MarshalPEM()
	if err != nil {
		return err
	}
	defer clear(priv)
	pubPEM, err := k.Public().MarshalPEM()
	if err != nil {
		return err
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{*out, priv, 0o600}, {*pub, pubPEM, 0o644}} {
		fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			return fmt.Errorf("create %s: %w", f.path, err)
		}
		_, werr := fh.Write(f.data)
		if cerr := fh.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(f.path)
			return fmt.Errorf("write %s: %w", f.path, werr)
		}
	}
	fmt.Fprintf(e.stdout, "%s\n", k.Public().KeyID())
	return nil
}

func runSBOMVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags("release sbom verify")
	pubFile := fs.String("pub", "", "trusted public key (PEM)")
	sigFile := fs.String("sig", "", "detached signature (default: SBOM.sig when the file is not an envelope)")
	gate := fs.Bool("gate", false, "also run the completeness gate on the SBOM")
	out := fs.String("out", "", "write the verified SBOM (from an envelope) to FILE")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *pubFile == "" {
		return usagef("release sbom verify needs --pub and one file")
	}
	pubData, err := os.ReadFile(*pubFile)
	if err != nil {
		return fmt.Errorf("read public key: %w", err)
	}
	pub, err := sbom.ParsePublicKey(pubData)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("read %s: %w", pos[0], err)
	}
	var payload []byte
	if strings.Contains(string(data[:min(len(data), 4096)]), `"payloadType"`) {
		_, payload, err = sbom.OpenEnvelope(ctx, data, pub)
	} else {
		sf := *sigFile
		if sf == "" {
			sf = pos[0] + ".sig"
		}
		var sig []byte
		if sig, err = os.ReadFile(sf); err != nil {
			return fmt.Errorf("read signature: %w", err)
		}
		payload, err = data, sbom.VerifyDetached(data, sig, pub)
	}
	if errors.Is(err, sbom.ErrSignature) {
		return &exitError{code: exitTampered, err: fmt.Errorf("%s: %w", pos[0], err)}
	}
	if err != nil {
		return err
	}
	doc, err := sbom.Read(payload)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *gate {
		if err := sbom.Check(doc); err != nil {
			return &exitError{code: exitTampered, err: err}
		}
	}
	if *out != "" {
		if err := idnWrite(e, *out, payload); err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"ok": true, "product": doc.Product.PURL, "components": len(doc.Components), "key": pub.KeyID()})
	}
	fmt.Fprintf(e.stdout, "%s: %d components, signed by %s\nverified\n", doc.Product.PURL, len(doc.Components), pub.KeyID())
	return nil
}

func sorted(s []string) []string { sort.Strings(s); return s }
