package main

import (
	"bytes"
	"strings"
	"testing"
)

// Bad usage of the distributed mode is exit 2 with a message naming the
// flag, before anything starts.
func TestAgentAndReplicasUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"agent"}, "-rendezvous"},
		{[]string{"agent", "-rendezvous", "coord:9000"}, "-rendezvous"},
		{[]string{"agent", "-rendezvous", "http://coord:9000", "-cpus", "x"}, "-cpus"},
		{[]string{"suite", "-replicas", "2"}, "-rendezvous"},
		{[]string{"suite", "-replicas", "2", "-rendezvous", "127.0.0.1:0"}, "-targets"},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("loadgen %s: exit %d, stderr %q; want %d naming %s", strings.Join(tc.args, " "), code, errb.String(), exitUsage, tc.want)
		}
	}
}
