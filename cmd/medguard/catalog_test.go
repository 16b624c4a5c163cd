package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/notify"
)

// Every medguard command that a notification recommends exists: a
// recommended action must be one the admin can take.
func TestRecommendedCommandsExist(t *testing.T) {
	cmd := regexp.MustCompile(`medguard((?: [a-z][a-z0-9-]*)+)`)
	seen := 0
	for _, k := range notify.Catalog {
		for _, m := range cmd.FindAllStringSubmatch(k.Action+" "+k.Cause, -1) {
			words := strings.Fields(m[1])
			found := false
			for i := len(words); i > 0 && !found; i-- {
				_, found = commands[strings.Join(words[:i], " ")]
			}
			if !found {
				t.Errorf("notification %s recommends %q, which is no command of medguard", k.Code, m[0])
			}
			seen++
		}
	}
	if seen == 0 {
		t.Fatal("no notification names a medguard command: the test checks nothing")
	}
}
