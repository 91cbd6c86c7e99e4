package main

import (
	"context"
	"strings"
	"testing"
)

func TestTimelinesUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "-out DIR is required"},
		{[]string{"-out", t.TempDir(), "-models", "nosuch"}, `"nosuch" is not a Go model`},
		{[]string{"-out", t.TempDir(), "extra"}, "takes no arguments"},
	} {
		code, _, stderr := runArgs(t, context.Background(), append([]string{"timelines"}, c.args...)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("timelines %v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
}
