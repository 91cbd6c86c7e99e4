package conformance

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
	{"eventloop-async", "servers/eventloop", []string{"-handler", "async"}},
	{"eventloop-pool", "servers/eventloop", []string{"-handler", "pool", "-pool-size", "8"}},
	{"eventloop-inline", "servers/eventloop", []string{"-handler", "inline"}},
}
