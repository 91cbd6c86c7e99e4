package contract

import (
	"flag"
	"fmt"
	"strconv"
	"time"
)

// DefaultDependencyTimeout bounds one /fanout dependency call when no
// -dependency-timeout is given: past it, /fanout answers 504.
const DefaultDependencyTimeout = 15 * time.Second

// MaxEmulateConnectMillis bounds -emulate-connect-ms.
const MaxEmulateConnectMillis = 10_000

// Options are the contract's flags that every server takes, registered once
// here so that each main stays thin and every server spells them the same:
//
//	-dependency-timeout D   bound on one /fanout dependency call (504 past it)
//	-emulate-connect-ms N   when this server is a dependency: an emulated WAN
//	                        handshake, N ms charged to the first request of
//	                        every new connection
//
// An Options is filled by flag parsing and read-only afterwards.
type Options struct {
	DependencyTimeout time.Duration
	// EmulateConnectMillis is the emulated handshake cost of a new
	// connection. Loopback connects in microseconds; the seeds' clients
	// paid DNS, TCP and TLS round trips over the internet for each new
	// connection. Charging this delay to a connection's first request is
	// a stated model of that cost, labelled "emulated WAN handshake" in
	// every log and report, never a measurement of a real network.
	EmulateConnectMillis int
}

// RegisterFlags registers the contract's flags on fs, with their defaults.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&o.DependencyTimeout, "dependency-timeout", DefaultDependencyTimeout,
		"bound on one /fanout dependency call; past it /fanout answers 504")
	fs.IntVar(&o.EmulateConnectMillis, "emulate-connect-ms", 0,
		"as a dependency: delay the first request of every new connection by this many ms (an emulated WAN handshake; 0: off)")
}

// Validate checks the parsed values and names the flag at fault.
func (o *Options) Validate() error {
	if o.DependencyTimeout <= 0 || o.DependencyTimeout > time.Hour {
		return fmt.Errorf("-dependency-timeout must be in (0, 1h], not %s (example: -dependency-timeout 15s)", o.DependencyTimeout)
	}
	if o.EmulateConnectMillis < 0 || o.EmulateConnectMillis > MaxEmulateConnectMillis {
		return fmt.Errorf("-emulate-connect-ms must be in [0, %d], not %d", MaxEmulateConnectMillis, o.EmulateConnectMillis)
	}
	return nil
}

// ConnectDelay is the emulated handshake to charge to a request: the
// EmulateConnectMillis for the first request of a connection (reqOnConn
// counts from 1), 0 for any later one or when emulation is off. The server
// waits this long its own way (a sleep, a timer) before serving the request.
func (o *Options) ConnectDelay(reqOnConn uint64) time.Duration {
	if o.EmulateConnectMillis <= 0 || reqOnConn != 1 {
		return 0
	}
	return time.Duration(o.EmulateConnectMillis) * time.Millisecond
}

// String describes the options for a server's start-up log line.
func (o *Options) String() string {
	s := "dependency timeout " + o.DependencyTimeout.String()
	if o.EmulateConnectMillis > 0 {
		s += ", emulated WAN handshake " + strconv.Itoa(o.EmulateConnectMillis) + " ms per new connection"
	}
	return s
}
