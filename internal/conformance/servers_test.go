package conformance

import (
	"testing"

	"github.com/serverlab/lab/internal/labtest"
)

// server is one configuration under test: a binary under servers/ and its flags.
type server struct {
	name string
	pkg  string // main package, relative to the module root
	args []string
}

// servers is every configuration the conformance cases and the benchmark
// table run against. All must give the same answers.
var servers = []server{
	{"blocking", "servers/blocking", nil},
	{"blocking-os", "servers/blocking", []string{"-threads", "os", "-max-threads", "64"}},
	{"prefork", "servers/prefork", []string{"-workers", "2"}},
	{"prefork-reuseport", "servers/prefork", []string{"-workers", "2", "-reuseport"}},
	{"eventloop-async", "servers/eventloop", []string{"-handler", "async"}},
	{"eventloop-pool", "servers/eventloop", []string{"-handler", "pool", "-pool-size", "8"}},
	{"eventloop-inline", "servers/eventloop", []string{"-handler", "inline"}},
}

// startServer starts one configuration with extra flags before its own,
// and stops it when the test ends.
func startServer(t testing.TB, s server, extra ...string) *labtest.Process {
	t.Helper()
	return labtest.Start(t, labtest.Binary(t, s.pkg), "", append(extra, s.args...)...)
}
