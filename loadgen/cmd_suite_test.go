package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestSuiteBadInput: every bad input exits with the table's code (2 for
// usage, 1 for a target that is down) and says which flag and what to do,
// at once.
func TestSuiteBadInput(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now
	cases := []struct {
		args  []string
		code  int
		wants []string
	}{
		{[]string{"-scenarios", "nope"}, exitUsage, []string{"-scenarios", `unknown scenario "nope"`, "known:"}},
		{[]string{"-targets", "nope=http://127.0.0.1:1"}, exitUsage, []string{"-targets", `unknown configuration "nope"`}},
		{[]string{"-targets", "blocking-os=127.0.0.1:1"}, exitUsage, []string{"-targets", "http://"}},
		{[]string{"-targets", "blocking-os=http://" + dead}, exitFail, []string{"-targets", "blocking-os", "refused", "is it running?"}},
		{[]string{"-no-such-flag"}, exitUsage, []string{"no-such-flag", "loadgen suite -h"}},
		{[]string{"-reps", "50"}, exitUsage, []string{"-reps"}},
		{[]string{"-measure", "-1s"}, exitUsage, []string{"-measure", "example"}},
		{[]string{"-server-cpus", "x"}, exitUsage, []string{"CPU list"}},
	}
	for _, c := range cases {
		t0 := time.Now()
		code, _, stderr := runArgs(t, context.Background(), append([]string{"suite", "-out", t.TempDir()}, c.args...)...)
		if code != c.code {
			t.Errorf("suite %v: exit %d, want %d; stderr:\n%s", c.args, code, c.code, stderr)
		}
		for _, w := range c.wants {
			if !strings.Contains(stderr, w) {
				t.Errorf("suite %v: stderr does not say %q:\n%s", c.args, w, stderr)
			}
		}
		if n := strings.Count(stderr, "\n"); n > 3 {
			t.Errorf("suite %v: %d lines of stderr; the error should not scroll away:\n%s", c.args, n, stderr)
		}
		if d := time.Since(t0); d > 20*time.Second {
			t.Errorf("suite %v took %s: bad input should fail at once", c.args, d)
		}
	}
}
