package vuln

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/medguard/medguard/internal/testenv"
)

// govulnDBDir is the Go vulnerability database in govulncheck's layout
// (shared test data of the team's machines).
const govulnDBDir = "../../../shared/data/govulndb"

// buildProgram builds a one-file program against golang.org/x/text v0.3.5
// (vulnerable to GO-2021-0113 in language.Parse and friends).
func buildProgram(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/reach\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.5\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644)
	exe := filepath.Join(dir, "prog")
	cmd := exec.Command("go", "build", "-mod=mod", "-o", exe, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		testenv.Missing(t, "cannot build the reachability test program (needs golang.org/x/text v0.3.5 from the Go module proxy): "+err.Error()+"\n"+string(out))
	}
	return exe
}

// TestReachabilityOnRealBinaries runs govulncheck (golang.org/x/vuln/scan,
// binary mode) against the offline Go vulnerability database: a program
// that links the vulnerable module without its vulnerable code gets the
// proposal; one that calls language.Parse does not.
func TestReachabilityOnRealBinaries(t *testing.T) {
	testenv.Integration(t)
	abs, _ := filepath.Abs(govulnDBDir)
	if _, err := os.Stat(filepath.Join(abs, "index", "db.json")); err != nil {
		testenv.Missing(t, "the offline Go vulnerability database is not at "+abs+" (shared test data)")
	}
	unused := buildProgram(t, "package main\n\nimport (\n\t\"fmt\"\n\n\t\"golang.org/x/text/language\"\n)\n\nfunc main() { fmt.Println(language.English) }\n")
	called := buildProgram(t, "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\t\"golang.org/x/text/language\"\n)\n\nfunc main() { fmt.Println(language.Parse(os.Args[0])) }\n")
	ctx := context.Background()
	r1, err := Reachability(ctx, unused, "file://"+abs)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Reachability(ctx, called, "file://"+abs)
	if err != nil {
		t.Fatal(err)
	}
	if r2["GO-2021-0113"] != ReachSymbol {
		t.Fatalf("program calling language.Parse: GO-2021-0113 reach = %v (all: %v)", r2["GO-2021-0113"], r2)
	}
	if r1["GO-2021-0113"] != ReachModuleOnly {
		t.Fatalf("program not calling it: GO-2021-0113 reach = %v (all: %v)", r1["GO-2021-0113"], r1)
	}
	ws := []WatchFinding{{Product: "p", Status: Untriaged, Finding: Finding{ID: "GO-2021-0113", Component: "pkg:golang/golang.org/x/text@v0.3.5"}}}
	ProposeFromReach(ws, "p", r1)
	if ws[0].Proposal == "" {
		t.Error("no proposal for the unreached vulnerability")
	}
}
