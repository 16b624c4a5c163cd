package api

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// docs/openapi.json documents exactly the route table: every route, its
// permission, whether it answers before provisioning and whether it is
// critical.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	b, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Perm         string `json:"x-medguard-permission"`
			Provisioning bool   `json:"x-medguard-provisioning"`
			Critical     bool   `json:"x-medguard-critical"`
			Part         string `json:"x-medguard-part"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range newEnv(t).srv.Routes() {
		p := strings.TrimSuffix(r.Pattern, "{$}")
		op, ok := doc.Paths[p][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s is not in docs/openapi.json", r.Method, p)
			continue
		}
		seen++
		if op.Perm != string(r.Perm) || op.Provisioning != r.Provisioning || op.Critical != r.Perm.Critical() {
			t.Errorf("%s %s: documented %+v, route has %s provisioning=%v critical=%v", r.Method, p, op, r.Perm, r.Provisioning, r.Perm.Critical())
		}
	}
	n := 0
	for _, ops := range doc.Paths {
		for _, op := range ops {
			if op.Part == "" { // routes other parts mount are checked there
				n++
			}
		}
	}
	if n != seen {
		t.Errorf("docs/openapi.json has %d operations, the route table %d", n, seen)
	}
}
