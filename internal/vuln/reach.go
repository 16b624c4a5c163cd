package vuln

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"golang.org/x/vuln/scan"
)

// Reach is what govulncheck saw of one vulnerability in one executable.
type Reach int

const (
	// ReachModuleOnly: the vulnerable module is linked in, but none of the
	// vulnerable symbols is in the executable.
	ReachModuleOnly Reach = iota + 1
	// ReachSymbol: a vulnerable symbol is in the executable.
	ReachSymbol
)

// Reachability runs govulncheck (golang.org/x/vuln/scan, binary mode) on a
// Go executable against the Go vulnerability database at dbURL
// ("file:///path" for an offline copy) and returns, per OSV id, how far the
// vulnerability reaches into the executable.
func Reachability(ctx context.Context, exe, dbURL string) (map[string]Reach, error) {
	var out, errb bytes.Buffer
	cmd := scan.Command(ctx, "-mode=binary", "-json", "-db", dbURL, exe)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("govulncheck %s: %w", exe, err)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("govulncheck %s: %w: %s", exe, err, strings.TrimSpace(errb.String()))
	}
	return ParseGovulncheckJSON(&out)
}

// govulncheckMessage is the part of govulncheck's JSON stream that is read.
type govulncheckMessage struct {
	Finding *struct {
		OSV   string `json:"osv"`
		Trace []struct {
			Module   string `json:"module"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

// ParseGovulncheckJSON reads govulncheck's -json output.
func ParseGovulncheckJSON(r io.Reader) (map[string]Reach, error) {
	dec := json.NewDecoder(io.LimitReader(r, 256<<20))
	out := map[string]Reach{}
	for {
		var m govulncheckMessage
		err := dec.Decode(&m)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read govulncheck output: %w", err)
		}
		if m.Finding == nil || m.Finding.OSV == "" {
			continue
		}
		lvl := ReachModuleOnly
		if len(m.Finding.Trace) > 0 && m.Finding.Trace[0].Function != "" {
			lvl = ReachSymbol
		}
		if lvl > out[m.Finding.OSV] {
			out[m.Finding.OSV] = lvl
		}
	}
}

// ProposeFromReach adds, to every untriaged finding of a Go module in the
// release whose product is product, the proposal "not_affected:
// vulnerable_code_not_in_execute_path" when govulncheck found the module
// but no vulnerable symbol. A person confirms it with a triage decision;
// nothing is suppressed by a proposal.
func ProposeFromReach(fs []WatchFinding, product string, reach map[string]Reach) {
	for i := range fs {
		f := &fs[i]
		if f.Product != product || f.Status != Untriaged || !strings.HasPrefix(f.Finding.Component, "pkg:golang/") {
			continue
		}
		for _, id := range append([]string{f.Finding.ID}, f.Finding.Aliases...) {
			if reach[id] == ReachModuleOnly {
				f.Proposal = "not_affected: vulnerable_code_not_in_execute_path (govulncheck found no vulnerable symbol in the executable; confirm)"
				break
			}
		}
	}
}
