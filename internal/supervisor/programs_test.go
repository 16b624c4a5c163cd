package supervisor

import (
	"strings"
	"testing"
)

func TestParseProgramsRules(t *testing.T) {
	ok := "[[program]]\nname = \"vitalsim\"\npath = \"bin/vitalsim\"\nargs = [\"--listen\", \"127.0.0.1:8088\"]\nenv = [\"A=b\"]\n"
	ps, err := ParsePrograms([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if p := ps[0]; p.Restart != "on-failure" || *p.MaxRestarts != 5 || *p.UID != -1 {
		t.Fatalf("defaults not applied: %+v", p)
	}
	bad := map[string]string{
		"unknown key":     ok + "bogus = 1\n",
		"absolute path":   "[[program]]\nname = \"a\"\npath = \"/bin/sh\"\n",
		"dotdot path":     "[[program]]\nname = \"a\"\npath = \"../x\"\n",
		"bad name":        "[[program]]\nname = \"A B\"\npath = \"x\"\n",
		"bad restart":     ok + "restart = \"sometimes\"\n",
		"bad env":         ok[:len(ok)-len("env = [\"A=b\"]\n")] + "env = [\"noequals\"]\n",
		"duplicate":       ok + ok,
		"no programs":     "",
		"negative uid":    ok + "uid = -5\n",
		"too many starts": ok + "max_restarts = 1000\n",
	}
	for name, doc := range bad {
		if _, err := ParsePrograms([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "program") {
			t.Errorf("%s: error %q does not name the program list", name, err)
		}
	}
}

func FuzzParsePrograms(f *testing.F) {
	f.Add([]byte("[[program]]\nname = \"a\"\npath = \"bin/a\"\nargs = [\"x\"]\nenv = [\"K=v\"]\nrestart = \"always\"\nstop_timeout = \"1s\"\n"))
	f.Add([]byte("[[program]]\nname = \"a\"\npath = \"../a\"\n"))
	f.Add([]byte("x = 1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ParsePrograms(data)
		if err != nil {
			return
		}
		for _, p := range ps {
			if err := p.validate(); err != nil {
				t.Fatalf("accepted an invalid program: %v", err)
			}
		}
	})
}
