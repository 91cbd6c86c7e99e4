// ioclient is the load generator's I/O experiment (issue 17): the smallest
// closed-loop HTTP/1.1 client, built twice over the same logic, once on
// epoll (epoll_wait, read(2), write(2), the clock read once per wake) and
// once on io_uring (multishot recv from a provided-buffer ring, one SEND per
// request, one io_uring_enter per wake that submits and waits). Run side by
// side, alternating, the two isolate what the I/O backend costs per request;
// scripts/cpu-compare.sh takes them with -l, for example
//
//	scripts/cpu-compare.sh -l 'epoll=bin/ioclient -io epoll' -l 'uring=bin/ioclient -io uring'
//
// It is a measuring instrument, not a load generator: fixed-size responses
// only (it learns the size from the first response's Content-Length, so
// /plaintext), IPv4 literal addresses, no warm-up, no pipelining, no error
// recovery. No scenario uses it. The io_uring ring is set up by hand with
// golang.org/x/sys/unix because no Go io_uring library is served to this
// lab (giouring, iouring-go and go-uring were refused by the module proxy).
//
// Owner: the engine's owner (loadgen/engine), who decides from its numbers
// whether the engine grows an io_uring backend.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"
)

const (
	setupCQSize              = 1 << 3
	setupSubmitAll           = 1 << 7
	setupCoopTaskrun         = 1 << 8
	setupSingleIssuer        = 1 << 12
	setupDeferTaskrun        = 1 << 13
	featSingleMmap           = 1 << 0
	offSQRing                = 0
	offSQEs                  = 0x10000000
	enterGetEvents           = 1 << 0
	enterExtArg              = 1 << 3
	opSend                   = 26
	opRecv                   = 27
	sqeBufferSelect          = 1 << 5
	recvMultishot            = 1 << 1
	registerPbufRing         = 22
	cqeFBuffer               = 1 << 0
	cqeFMore                 = 1 << 1
	bufShift                 = 16
	nBufs                    = 4096
	bufSize                  = 4096
	bgid                     = 0
	tagRecv           uint64 = 0
	tagSend           uint64 = 1
)

type sqOff struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}
type cqOff struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}
type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sq                                                                     sqOff
	cq                                                                     cqOff
}
type sqe struct {
	opcode, flags uint8
	ioprio        uint16
	fd            int32
	off, addr     uint64
	len, opFlags  uint32
	userData      uint64
	bufIndex      uint16
	personality   uint16
	spliceFdIn    int32
	addr3, pad    uint64
}
type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}
type bufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid, flags uint16
	resv        [3]uint64
}
type getEventsArg struct {
	sigmask   uint64
	sigmaskSz uint32
	minWait   uint32
	ts        uint64
}

type ring struct {
	fd                     int
	sqHead, sqTail, sqMask *uint32
	sqArray                []uint32
	sqes                   []sqe
	cqHead, cqTail, cqMask *uint32
	cqes                   []cqe
	pending                uint32 // SQEs written, not yet submitted
	bufRing                []byte
	bufTail                uint16
	bufs                   []byte
}

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "ioclient: %s: %v\n", what, err)
		os.Exit(1)
	}
}

func newRing(entries uint32) *ring {
	var p params
	p.flags = setupCQSize | setupSubmitAll | setupCoopTaskrun | setupSingleIssuer | setupDeferTaskrun
	p.cqEntries = entries * 4
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		must(e, "io_uring_setup")
	}
	if p.features&featSingleMmap == 0 {
		must(fmt.Errorf("no IORING_FEAT_SINGLE_MMAP"), "features")
	}
	r := &ring{fd: int(fd)}
	size := max(int(p.sq.array+p.sqEntries*4), int(p.cq.cqes+p.cqEntries*16))
	mem, err := unix.Mmap(r.fd, offSQRing, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	must(err, "mmap rings")
	sqm, err := unix.Mmap(r.fd, offSQEs, int(p.sqEntries)*64, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	must(err, "mmap sqes")
	base := unsafe.Pointer(&mem[0])
	r.sqHead = (*uint32)(unsafe.Add(base, p.sq.head))
	r.sqTail = (*uint32)(unsafe.Add(base, p.sq.tail))
	r.sqMask = (*uint32)(unsafe.Add(base, p.sq.ringMask))
	r.sqArray = unsafe.Slice((*uint32)(unsafe.Add(base, p.sq.array)), p.sqEntries)
	for i := range r.sqArray {
		r.sqArray[i] = uint32(i)
	}
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&sqm[0])), p.sqEntries)
	r.cqHead = (*uint32)(unsafe.Add(base, p.cq.head))
	r.cqTail = (*uint32)(unsafe.Add(base, p.cq.tail))
	r.cqMask = (*uint32)(unsafe.Add(base, p.cq.ringMask))
	r.cqes = unsafe.Slice((*cqe)(unsafe.Add(base, p.cq.cqes)), p.cqEntries)

	// The provided-buffer ring that multishot recv takes buffers from.
	rb, err := unix.Mmap(-1, 0, nBufs*16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	must(err, "mmap buffer ring")
	r.bufRing = rb
	r.bufs = make([]byte, nBufs*bufSize)
	reg := bufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&rb[0]))), ringEntries: nBufs, bgid: bgid}
	if _, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, fd, registerPbufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0); e != 0 {
		must(e, "register buffer ring")
	}
	for i := 0; i < nBufs; i++ {
		r.addBuf(uint16(i))
	}
	r.publishBufs()
	return r
}

func (r *ring) addBuf(bid uint16) {
	e := unsafe.Pointer(&r.bufRing[int(r.bufTail&(nBufs-1))*16])
	*(*uint64)(e) = uint64(uintptr(unsafe.Pointer(&r.bufs[int(bid)*bufSize])))
	*(*uint32)(unsafe.Add(e, 8)) = bufSize
	*(*uint16)(unsafe.Add(e, 12)) = bid
	r.bufTail++
}

func (r *ring) publishBufs() {
	// The ring's tail is the resv field of its first entry (offset 14).
	// A plain 16-bit store: amd64 keeps stores in order, and Go has no
	// 16-bit atomic store (a 32-bit one would overwrite entry 0's bid).
	p := (*uint16)(unsafe.Pointer(&r.bufRing[14]))
	*p = r.bufTail
}

func (r *ring) getSQE() *sqe {
	tail := *r.sqTail + r.pending
	if tail-atomic.LoadUint32(r.sqHead) >= uint32(len(r.sqes)) {
		r.enter(0) // submit to make room
		tail = *r.sqTail + r.pending
	}
	s := &r.sqes[tail&*r.sqMask]
	*s = sqe{}
	r.pending++
	return s
}

// enter submits what is pending and, with wait > 0, waits for at least one
// completion or the timeout.
func (r *ring) enter(wait time.Duration) {
	atomic.StoreUint32(r.sqTail, *r.sqTail+r.pending)
	n := r.pending
	r.pending = 0
	flags := uintptr(0)
	minc := uintptr(0)
	var arg getEventsArg
	var ts unix.Timespec
	if wait > 0 {
		flags = enterGetEvents | enterExtArg
		minc = 1
		ts = unix.NsecToTimespec(int64(wait))
		arg.ts = uint64(uintptr(unsafe.Pointer(&ts)))
	}
	for {
		var a, asz uintptr
		if wait > 0 {
			a, asz = uintptr(unsafe.Pointer(&arg)), unsafe.Sizeof(arg)
		}
		_, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(n), minc, flags, a, asz)
		runtime.KeepAlive(&ts)
		if e == unix.EINTR || e == unix.EAGAIN || e == unix.EBUSY {
			if wait == 0 {
				continue
			}
			return
		}
		if e != 0 && e != unix.ETIME {
			must(e, "io_uring_enter")
		}
		return
	}
}

type conn struct {
	fd   int
	got  int   // bytes of the current response received
	sent int64 // when the request in flight was sent (ns since start)
}

// take accounts n bytes received at now, recording the latency of each
// fixed-size response they complete; it reports whether the connection is
// done with its request and may send the next. Both backends share it.
func (cn *conn) take(n, respLen int, now int64, hist *hdrhistogram.Histogram, responses *int64) bool {
	cn.got += n
	for cn.got >= respLen {
		cn.got -= respLen
		hist.RecordValue(max(now-cn.sent, 1))
		*responses++
	}
	return cn.got == 0
}

func main() {
	// cpu-compare.sh passes loadgen's command line: "run" and its flags,
	// with this program's own -io before or after "run".
	var args []string
	for _, a := range os.Args[1:] {
		if a != "run" {
			args = append(args, a)
		}
	}
	fs := flag.NewFlagSet("ioclient", flag.ExitOnError)
	u := fs.String("url", "", "target")
	c := fs.Int("c", 64, "connections")
	d := fs.Duration("d", 5*time.Second, "duration")
	_ = fs.Int("pipeline", 1, "ignored (1)")
	_ = fs.Int("loops", 1, "ignored (1)")
	jsonOut := fs.String("json", "", "result file")
	io := fs.String("io", "uring", "I/O backend: uring or epoll (the same client otherwise)")
	fs.Parse(args)
	if *u == "" || (*io != "epoll" && *io != "uring") {
		fmt.Fprintln(os.Stderr, "usage: ioclient [run] -url http://IP:PORT/plaintext [-c N] [-d DUR] [-io epoll|uring] [-json FILE]")
		os.Exit(2)
	}
	pu, err := url.Parse(*u)
	must(err, "url")
	host, portS, _ := bytes.Cut([]byte(pu.Host), []byte(":"))
	port, _ := strconv.Atoi(string(portS))
	ip := [4]byte{}
	copy(ip[:], mustIP(string(host)))
	req := []byte("GET " + pu.RequestURI() + " HTTP/1.1\r\nHost: " + pu.Host + "\r\n\r\n")

	runtime.LockOSThread() // SINGLE_ISSUER, DEFER_TASKRUN: one thread submits
	conns := make([]*conn, *c)
	for i := range conns {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		must(err, "socket")
		must(unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: ip}), "connect")
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		conns[i] = &conn{fd: fd}
	}
	// Learn the response size with one blocking request.
	respLen := learn(conns[0].fd, req)
	hist := hdrhistogram.New(1, 60_000_000_000, 3)
	start := time.Now()
	clock := func() int64 { return int64(time.Since(start)) }
	var responses, errors int64
	if *io == "epoll" {
		responses, errors = runEpoll(conns, req, respLen, hist, clock, int64(*d))
	} else {
		responses, errors = runUring(conns, req, respLen, hist, clock, int64(*d))
	}
	el := time.Since(start).Seconds()
	rps := float64(responses) / el
	p50 := float64(hist.ValueAtQuantile(50)) / 1e6
	fmt.Printf("%s: %d responses in %.2fs: %.0f rps, p50 %.3f ms, errors %d\n", *io, responses, el, rps, p50, errors)
	if *jsonOut != "" {
		b, _ := json.Marshal(map[string]any{"rps": rps, "latency_ms": map[string]float64{"p50": p50}, "errors": errors, "io_backend": *io})
		must(os.WriteFile(*jsonOut, b, 0o644), "json")
	}
}

// runEpoll is the same closed loop with epoll_wait, read(2) and write(2):
// the clock once per wake, one read per readable socket, one write per
// request.
func runEpoll(conns []*conn, req []byte, respLen int, hist *hdrhistogram.Histogram, clock func() int64, deadline int64) (responses, errors int64) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	must(err, "epoll_create")
	for i, cn := range conns {
		must(unix.SetNonblock(cn.fd, true), "nonblock")
		must(unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, cn.fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i)}), "epoll_ctl")
	}
	events := make([]unix.EpollEvent, 1024)
	buf := make([]byte, 256<<10)
	now := clock()
	send := func(cn *conn, now int64) {
		cn.sent, cn.got = now, 0
		if n, err := unix.Write(cn.fd, req); n != len(req) || err != nil {
			errors++
		}
	}
	for _, cn := range conns {
		send(cn, now)
	}
	for now < deadline {
		n, err := unix.EpollWait(ep, events, 100)
		if err != nil && err != unix.EINTR {
			must(err, "epoll_wait")
		}
		now = clock() // once per wake
		for k := 0; k < n; k++ {
			cn := conns[events[k].Fd]
			m, err := unix.Read(cn.fd, buf)
			if m <= 0 {
				if err != unix.EAGAIN {
					errors++
				}
				continue
			}
			if cn.take(m, respLen, now, hist, &responses) {
				send(cn, now)
			}
		}
	}
	return responses, errors
}

// runUring: multishot recv from the provided-buffer ring, one SEND per
// request, and one io_uring_enter per wake that submits and waits.
func runUring(conns []*conn, req []byte, respLen int, hist *hdrhistogram.Histogram, clock func() int64, deadline int64) (responses, errors int64) {
	r := newRing(4096)
	send := func(i int, now int64) {
		cn := conns[i]
		cn.sent, cn.got = now, 0
		s := r.getSQE()
		s.opcode, s.fd = opSend, int32(cn.fd)
		s.addr, s.len = uint64(uintptr(unsafe.Pointer(&req[0]))), uint32(len(req))
		s.opFlags = unix.MSG_NOSIGNAL
		s.userData = uint64(i)<<1 | tagSend
	}
	recv := func(i int) {
		s := r.getSQE()
		s.opcode, s.fd = opRecv, int32(conns[i].fd)
		s.flags = sqeBufferSelect
		s.ioprio = recvMultishot
		s.bufIndex = bgid
		s.userData = uint64(i)<<1 | tagRecv
	}
	now := clock()
	for i := range conns {
		recv(i)
		send(i, now)
	}
	for now < deadline {
		r.enter(100 * time.Millisecond)
		now = clock() // once per wake
		head := *r.cqHead
		tail := atomic.LoadUint32(r.cqTail)
		returned := false
		for ; head != tail; head++ {
			e := r.cqes[head&*r.cqMask]
			i := int(e.userData >> 1)
			cn := conns[i]
			if e.userData&1 == tagSend {
				if e.res < 0 || int(e.res) != len(req) {
					errors++
					fmt.Fprintf(os.Stderr, "send %d: res %d\n", i, e.res)
				}
				continue
			}
			if e.res <= 0 {
				if e.res == -int32(unix.ENOBUFS) {
					recv(i) // buffers ran out; re-arm
					continue
				}
				errors++
				fmt.Fprintf(os.Stderr, "recv %d: res %d\n", i, e.res)
				continue
			}
			if e.flags&cqeFBuffer != 0 {
				r.addBuf(uint16(e.flags >> bufShift))
				returned = true
			}
			if cn.take(int(e.res), respLen, now, hist, &responses) {
				send(i, now)
			}
			if e.flags&cqeFMore == 0 {
				recv(i)
			}
		}
		atomic.StoreUint32(r.cqHead, head)
		if returned {
			r.publishBufs()
		}
	}
	return responses, errors
}

func mustIP(h string) []byte {
	ip := net.ParseIP(h).To4()
	if ip == nil {
		must(fmt.Errorf("want an IPv4 address such as 127.0.0.1, got %q", h), "url")
	}
	return ip
}

// learn sends one request on the blocking fd and returns the response's
// size (headers plus Content-Length).
func learn(fd int, req []byte) int {
	_, err := unix.Write(fd, req)
	must(err, "write")
	buf := make([]byte, 64<<10)
	got := 0
	for {
		n, err := unix.Read(fd, buf[got:])
		must(err, "read")
		got += n
		if i := bytes.Index(buf[:got], []byte("\r\n\r\n")); i >= 0 {
			h := bytes.ToLower(buf[:i])
			j := bytes.Index(h, []byte("content-length:"))
			if j < 0 {
				must(fmt.Errorf("no Content-Length"), "learn")
			}
			rest := bytes.TrimLeft(h[j+15:], " ")
			k := bytes.IndexByte(rest, '\r')
			if k < 0 {
				k = len(rest)
			}
			cl, _ := strconv.Atoi(string(rest[:k]))
			total := i + 4 + cl
			for got < total {
				n, err := unix.Read(fd, buf[got:])
				must(err, "read")
				got += n
			}
			return total
		}
	}
}
