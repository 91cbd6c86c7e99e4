package engine

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/serverlab/lab/internal/limits"
)

// rawRead and rawWrite call read(2) and write(2) without telling the Go
// scheduler: the engine's sockets are non-blocking, so the call cannot block
// and the entersyscall/exitsyscall bookkeeping of unix.Read would be pure
// overhead on the hot path. n is -1 when errno is set.
func rawRead(fd int, p []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(r), e
}

func rawWrite(fd int, p []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(r), e
}

// classify maps a socket errno to an error class.
func classify(e unix.Errno) errClass {
	switch e {
	case unix.ECONNREFUSED:
		return cRefused
	case unix.ETIMEDOUT:
		return cTimeout
	case unix.ECONNRESET, unix.EPIPE, unix.ECONNABORTED:
		return cReset
	}
	return cOther
}

// errnoOf extracts an errno from a Go error, or returns EIO.
func errnoOf(err error) unix.Errno {
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EIO
}

// resolve turns host:port into a socket address, preferring IPv4.
func resolve(ctx context.Context, addr string) (unix.Sockaddr, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, 0, err
	}
	port, err := net.DefaultResolver.LookupPort(ctx, "tcp", portStr)
	if err != nil {
		return nil, 0, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		ips, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, 0, err
		}
	}
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			return &unix.SockaddrInet4{Port: port, Addr: ip.Unmap().As4()}, unix.AF_INET, nil
		}
	}
	for _, ip := range ips {
		return &unix.SockaddrInet6{Port: port, Addr: ip.As16()}, unix.AF_INET6, nil
	}
	return nil, 0, fmt.Errorf("%s: no address", host)
}

// Probe dials addr once and closes the connection. Run calls it before any
// load, so a target that is down fails fast (a refused connect returns
// immediately; a silent host within timeout) with an error wrapping
// ErrTargetDown. The hey engine uses it too.
func Probe(ctx context.Context, addr string, timeout time.Duration) error {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("%w: cannot connect to %s: %v", ErrTargetDown, addr, err)
	}
	return c.Close()
}

// SpareFDs is the number of file descriptors kept free besides the
// connections (stdio, epoll and timer fds, the JSON file, the Go runtime).
const SpareFDs = 64

var nofile struct {
	once  sync.Once
	limit uint64
}

// NofileLimit raises the soft RLIMIT_NOFILE to the hard limit (once per
// process, via internal/limits) and returns the result.
func NofileLimit() uint64 {
	nofile.once.Do(func() {
		nofile.limit, _ = limits.RaiseNofile()
	})
	return nofile.limit
}

// NofileCap is the most connections one process can hold: the raised nofile
// limit minus SpareFDs.
func NofileCap() int {
	return max(int(NofileLimit())-SpareFDs, 0)
}

// CheckConns returns an error wrapping ErrTooMany, naming the cap, when n
// connections cannot fit under the nofile limit.
func CheckConns(n int) error {
	if limit := NofileLimit(); uint64(n)+SpareFDs > limit {
		return fmt.Errorf("%w: %d connections need %d file descriptors (%d spare) but the nofile limit is %d, the hard limit: use at most %d connections",
			ErrTooMany, n, n+SpareFDs, SpareFDs, limit, NofileCap())
	}
	return nil
}

func closeFD(fd int) { _ = unix.Close(fd) }
