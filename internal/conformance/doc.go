// Package conformance holds the lab's cross-server tests: one table of
// raw-bytes cases and one benchmark table, run against every server binary
// started as a real process on loopback. The servers are listed once, in
// servers_test.go; adding a server is one line there.
package conformance
