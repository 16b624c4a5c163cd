package sbom

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// cdxSchemaDir finds the CycloneDX JSON schemas that ship inside the
// cyclonedx-go module (schema/bom-1.6.schema.json, Apache-2.0, the
// CycloneDX project's published specification).
func cdxSchemaDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/CycloneDX/cyclonedx-go").Output()
	if err != nil {
		t.Fatalf("locate the cyclonedx-go module (its schema directory holds the CycloneDX 1.6 schema): %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "schema")
}

func compileSchema(t *testing.T, url string, files map[string]string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for u, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if err := c.AddResource(u, doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func cycloneDXSchema(t *testing.T) *jsonschema.Schema {
	dir := cdxSchemaDir(t)
	return compileSchema(t, "http://cyclonedx.org/schema/bom-1.6.schema.json", map[string]string{
		"http://cyclonedx.org/schema/bom-1.6.schema.json":  filepath.Join(dir, "bom-1.6.schema.json"),
		"http://cyclonedx.org/schema/spdx.schema.json":     filepath.Join(dir, "spdx.schema.json"),
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": filepath.Join(dir, "jsf-0.82.schemax.json"),
	})
}

func spdxSchema(t *testing.T) *jsonschema.Schema {
	const u = "https://medguard.invalid/testdata/spdx-2.3-subset.schema.json"
	return compileSchema(t, u, map[string]string{u: "testdata/spdx-2.3-subset.schema.json"})
}

func validate(t *testing.T, s *jsonschema.Schema, data []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(inst)
}
