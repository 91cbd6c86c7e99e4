package engine

import (
	"errors"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The io_uring backend (Config.IO): the closed loop's data path without a
// syscall per read or per write.
//
// Each loop that uses it owns one ring, created on the loop's own locked OS
// thread (SINGLE_ISSUER and DEFER_TASKRUN: completions run only when that
// thread asks for them, inside its io_uring_enter). Per connection one
// multishot RECV stays armed, taking buffers from a provided-buffer ring, and
// each batch of requests is one SEND; connects wait on a POLL_ADD. Every wake
// is one io_uring_enter that submits what the last wake queued and waits for
// completions, so the steady state costs one syscall per wake instead of a
// read(2) and a write(2) per request; the clock is read once per wake. It
// degrades cleanly: where io_uring is missing or forbidden (an old kernel,
// io_uring_disabled, Docker's default seccomp profile) newURing fails and
// the loop runs on epoll (Config.IO "auto"), and Result.IOBackend says which.
//
// Written against the kernel ABI (include/uapi/linux/io_uring.h) with
// golang.org/x/sys/unix by hand: no Go io_uring library is served to this
// lab, and x/sys has only the syscall numbers. Measured against epoll with
// benchref/ioclient and scripts/cpu-compare.sh (issue 17's closing note).
// Owner: the engine (loadgen/engine).

const (
	// Sized for 10k connections on one loop: a wake can bring a recv and
	// a send completion for each (20k CQEs, and the kernel keeps any excess
	// in its overflow list), and up to that many responses in flight before
	// the loop reaps, each holding a buffer until then (past that a
	// multishot recv ends with ENOBUFS and is armed again).
	uringEntries = 4096  // SQ entries (a full SQ is submitted early)
	uringCQ      = 32768 // CQ entries (512 KiB)
	uringBufs    = 8192  // provided receive buffers per loop (a power of two)
	uringBufSize = 2048  // bytes each: 16 MiB per loop; a longer response arrives in several

	uSetupCQSize       = 1 << 3
	uSetupSubmitAll    = 1 << 7
	uSetupCoopTaskrun  = 1 << 8
	uSetupSingleIssuer = 1 << 12
	uSetupDeferTaskrun = 1 << 13
	uFeatSingleMmap    = 1 << 0
	uFeatNoDrop        = 1 << 1
	uOffSQEs           = 0x10000000
	uEnterGetEvents    = 1 << 0
	uEnterExtArg       = 1 << 3
	uOpPollAdd         = 6
	uOpAsyncCancel     = 14
	uOpSend            = 26
	uOpRecv            = 27
	uSqeBufferSelect   = 1 << 5
	uRecvMultishot     = 1 << 1
	uCancelAll         = 1 << 0
	uCancelFD          = 1 << 1
	uRegisterPbufRing  = 22
	uCqeFBuffer        = 1 << 0
	uCqeFMore          = 1 << 1
	uBufShift          = 16
	uBufGroup          = 0
)

// Operations, in the low byte of a completion's user_data; the connection's
// slot and generation fill the rest, so completions for a connection that
// was closed since (gen bumped) are recognised and dropped.
const (
	uTagPoll   = 1 // connect finished (POLLOUT)
	uTagRecv   = 2
	uTagSend   = 3
	uTagCancel = 4
)

func uData(c *conn, tag uint64) uint64 {
	return uint64(uint32(c.slot))<<32 | uint64(uint32(c.gen)&0xffffff)<<8 | tag
}

type uSqOff struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type uCqOff struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sq                                                                     uSqOff
	cq                                                                     uCqOff
}

type uSQE struct {
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

type uCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

type uBufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid, flags uint16
	resv        [3]uint64
}

type uGetEventsArg struct {
	sigmask   uint64
	sigmaskSz uint32
	minWait   uint32
	ts        uint64
}

// uring is one loop's ring. Owned by the loop's goroutine, which is locked
// to its OS thread while the ring exists.
type uring struct {
	fd                     int
	mem, sqm               []byte // the mapped rings and SQE array
	sqHead, sqTail, sqMask *uint32
	sqes                   []uSQE
	cqHead, cqTail, cqMask *uint32
	cqes                   []uCQE
	pending                uint32 // SQEs written since the last submit

	bufRing []byte // provided-buffer ring (uringBufs entries of 16 bytes)
	bufs    []byte // the buffers themselves
	bufTail uint16

	arg   uGetEventsArg // scratch for enter: fields, so nothing escapes per call
	ts    unix.Timespec
	fence uint32 // target of publishBufs' barrier
}

var errNoSingleMmap = errors.New("io_uring: the kernel lacks IORING_FEAT_SINGLE_MMAP and NODROP (Linux 5.5+)")

// newURing sets up a ring and its receive buffers. It must run on the
// thread that will submit (the caller has locked it). An error means
// io_uring is not usable here; the caller falls back to epoll.
func newURing() (*uring, error) {
	var p uParams
	p.flags = uSetupCQSize | uSetupSubmitAll | uSetupCoopTaskrun | uSetupSingleIssuer | uSetupDeferTaskrun
	p.cqEntries = uringCQ
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uringEntries, uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, e
	}
	r := &uring{fd: int(fd)}
	if p.features&uFeatSingleMmap == 0 || p.features&uFeatNoDrop == 0 {
		r.close()
		return nil, errNoSingleMmap
	}
	var err error
	size := max(int(p.sq.array+p.sqEntries*4), int(p.cq.cqes+p.cqEntries*uint32(unsafe.Sizeof(uCQE{}))))
	if r.mem, err = unix.Mmap(r.fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		r.close()
		return nil, err
	}
	if r.sqm, err = unix.Mmap(r.fd, uOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(uSQE{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		r.close()
		return nil, err
	}
	base := unsafe.Pointer(&r.mem[0])
	r.sqHead = (*uint32)(unsafe.Add(base, p.sq.head))
	r.sqTail = (*uint32)(unsafe.Add(base, p.sq.tail))
	r.sqMask = (*uint32)(unsafe.Add(base, p.sq.ringMask))
	for i, a := 0, unsafe.Slice((*uint32)(unsafe.Add(base, p.sq.array)), p.sqEntries); i < len(a); i++ {
		a[i] = uint32(i) // SQE i sits in slot i, always
	}
	r.sqes = unsafe.Slice((*uSQE)(unsafe.Pointer(&r.sqm[0])), p.sqEntries)
	r.cqHead = (*uint32)(unsafe.Add(base, p.cq.head))
	r.cqTail = (*uint32)(unsafe.Add(base, p.cq.tail))
	r.cqMask = (*uint32)(unsafe.Add(base, p.cq.ringMask))
	r.cqes = unsafe.Slice((*uCQE)(unsafe.Add(base, p.cq.cqes)), p.cqEntries)

	// The provided-buffer ring multishot recv takes its buffers from: page
	// aligned (an anonymous mapping), registered as group uBufGroup.
	if r.bufRing, err = unix.Mmap(-1, 0, uringBufs*16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err != nil {
		r.close()
		return nil, err
	}
	r.bufs, err = unix.Mmap(-1, 0, uringBufs*uringBufSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		r.close()
		return nil, err
	}
	reg := uBufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&r.bufRing[0]))), ringEntries: uringBufs, bgid: uBufGroup}
	if _, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), uRegisterPbufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0); e != 0 {
		r.close()
		return nil, e
	}
	for i := range uringBufs {
		r.putBuf(uint16(i))
	}
	r.publishBufs()
	return r, nil
}

// close releases the ring, its mappings and its buffers.
func (r *uring) close() {
	for _, m := range [][]byte{r.sqm, r.mem, r.bufs, r.bufRing} {
		if m != nil {
			_ = unix.Munmap(m)
		}
	}
	r.sqm, r.mem, r.bufs, r.bufRing = nil, nil, nil, nil
	if r.fd >= 0 {
		unix.Close(r.fd)
		r.fd = -1
	}
}

// putBuf queues buffer bid for the kernel again; publishBufs makes the
// queued ones visible.
func (r *uring) putBuf(bid uint16) {
	e := unsafe.Pointer(&r.bufRing[int(r.bufTail&(uringBufs-1))*16])
	*(*uint64)(e) = uint64(uintptr(unsafe.Pointer(&r.bufs[int(bid)*uringBufSize])))
	*(*uint32)(unsafe.Add(e, 8)) = uringBufSize
	*(*uint16)(unsafe.Add(e, 12)) = bid
	r.bufTail++
}

// publishBufs stores the buffer ring's tail (the resv field of its first
// entry, at offset 14) after the entries putBuf wrote. Go has no 16-bit
// atomic store (a 32-bit one would overwrite entry 0's bid), so the atomic
// add before it is the barrier: neither the compiler nor the CPU moves the
// entries' stores past it.
func (r *uring) publishBufs() {
	atomic.AddUint32(&r.fence, 1)
	*(*uint16)(unsafe.Pointer(&r.bufRing[14])) = r.bufTail
}

// buf returns received bytes: n of buffer bid.
func (r *uring) buf(bid uint16, n int) []byte {
	off := int(bid) * uringBufSize
	return r.bufs[off : off+n : off+uringBufSize]
}

// sqe returns a zeroed SQE to fill; it is submitted by the next enter.
func (r *uring) sqe() *uSQE {
	tail := *r.sqTail + r.pending
	if tail-atomic.LoadUint32(r.sqHead) >= uint32(len(r.sqes)) {
		r.enter(-1) // the queue is full: submit it now
		tail = *r.sqTail
	}
	s := &r.sqes[tail&*r.sqMask]
	*s = uSQE{}
	r.pending++
	return s
}

// enter submits the pending SQEs. waitMs < 0: submit only; waitMs >= 0:
// also run the deferred completions and wait up to waitMs for at least one
// (0: do not wait, just collect what is done).
func (r *uring) enter(waitMs int) {
	atomic.StoreUint32(r.sqTail, *r.sqTail+r.pending)
	n := r.pending
	r.pending = 0
	var flags, minc, arg, argSz uintptr
	if waitMs >= 0 {
		flags = uEnterGetEvents | uEnterExtArg
		if waitMs > 0 {
			minc = 1
		}
		r.ts = unix.NsecToTimespec(int64(waitMs) * int64(time.Millisecond))
		r.arg = uGetEventsArg{ts: uint64(uintptr(unsafe.Pointer(&r.ts)))}
		arg, argSz = uintptr(unsafe.Pointer(&r.arg)), unsafe.Sizeof(r.arg)
	}
	for {
		var e unix.Errno
		if waitMs > 0 {
			_, _, e = unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(n), minc, flags, arg, argSz)
		} else {
			_, _, e = unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(n), minc, flags, arg, argSz)
		}
		switch e {
		case unix.EINTR:
			if waitMs > 0 {
				return
			}
			continue
		case unix.EAGAIN, unix.EBUSY:
			// The CQ is backed up (overflowing): the caller reaps and
			// enters again; the SQEs stay queued (SUBMIT_ALL).
			return
		}
		runtime.KeepAlive(r)
		return // 0, ETIME (the wait ran out), or an error a valid ring cannot return
	}
}

// ---- the loop's side -------------------------------------------------------

// useURing sets the loop up for io_uring if cfg allows and the kernel does;
// it reports whether it did. Called at the start of run, on the loop's own
// (locked) thread.
func (l *loop) useURing() bool {
	if !l.t.uring {
		return false
	}
	r, err := newURing()
	if err != nil {
		return false // the probe in Run passed, so this is rare: epoll serves
	}
	l.ur = r
	return true
}

// probeURing reports whether an io_uring like the loops' can be set up
// here (nil) or why not.
func probeURing() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, err := newURing()
	if err != nil {
		return err
	}
	r.close()
	return nil
}

// uPoll waits for c's non-blocking connect to finish.
func (l *loop) uPoll(c *conn) {
	s := l.ur.sqe()
	s.opcode, s.fd = uOpPollAdd, int32(c.fd)
	s.opFlags = unix.POLLOUT
	s.userData = uData(c, uTagPoll)
}

// uRecv arms c's multishot receive.
func (l *loop) uRecv(c *conn) {
	s := l.ur.sqe()
	s.opcode, s.fd = uOpRecv, int32(c.fd)
	s.flags = uSqeBufferSelect
	s.ioprio = uRecvMultishot
	s.bufIndex = uBufGroup
	s.userData = uData(c, uTagRecv)
}

// uSend queues c's unsent request bytes as one SEND (at most one in flight
// per connection; its completion sends the rest of a short write).
func (l *loop) uSend(c *conn) {
	if c.sending || c.wleft == 0 {
		return
	}
	off := (l.reqLen - c.wleft%l.reqLen) % l.reqLen
	end := min(len(l.reqs), off+c.wleft)
	s := l.ur.sqe()
	s.opcode, s.fd = uOpSend, int32(c.fd)
	s.addr, s.len = uint64(uintptr(unsafe.Pointer(&l.reqs[off]))), uint32(end-off)
	s.opFlags = unix.MSG_NOSIGNAL
	s.userData = uData(c, uTagSend)
	c.sending = true
}

// uCancel cancels every request in flight on c's socket and lets the kernel
// finish them now, so that the close that follows releases the socket (a
// pending multishot recv holds a reference to it; with DEFER_TASKRUN its
// cancellation completes only inside an enter that collects events).
func (l *loop) uCancel(c *conn) {
	s := l.ur.sqe()
	s.opcode, s.fd = uOpAsyncCancel, int32(c.fd)
	s.opFlags = uCancelFD | uCancelAll
	s.userData = uData(c, uTagCancel)
	l.ur.enter(0)
}

// uReap handles every completion the ring holds, at clock now.
func (l *loop) uReap(now int64) {
	r := l.ur
	head := *r.cqHead
	tail := atomic.LoadUint32(r.cqTail)
	returned := false
	for ; head != tail; head++ {
		e := r.cqes[head&*r.cqMask]
		if e.flags&uCqeFBuffer != 0 {
			// Take the bytes now, then give the buffer back whatever
			// happens to the connection.
			bid := uint16(e.flags >> uBufShift)
			r.putBuf(bid)
			returned = true
			if e.res > 0 {
				l.uOnRecv(e, r.buf(bid, int(e.res)), now)
				continue
			}
		}
		l.uComplete(e, now)
	}
	atomic.StoreUint32(r.cqHead, head)
	if returned {
		r.publishBufs()
	}
}

// uConn returns the connection a completion belongs to, or nil if it is
// stale (the connection was closed since it was queued).
func (l *loop) uConn(e uCQE) *conn {
	slot := int(e.userData >> 32)
	if slot >= len(l.conns) {
		return nil
	}
	c := l.conns[slot]
	if uint32(c.gen)&0xffffff != uint32(e.userData>>8)&0xffffff || c.state == csClosed || c.state == csBackoff {
		return nil
	}
	return c
}

// uOnRecv consumes received bytes b (a provided buffer, given back by the
// caller once this returns).
func (l *loop) uOnRecv(e uCQE, b []byte, now int64) {
	c := l.uConn(e)
	if c == nil || c.state != csOpen {
		return
	}
	l.st.bytesRead += int64(len(b))
	l.consume(c, b, now)
	if e.flags&uCqeFMore == 0 && c.state == csOpen && uint32(c.gen)&0xffffff == uint32(e.userData>>8)&0xffffff {
		l.uRecv(c) // the multishot ended (no buffer was free): arm it again
	}
}

// uComplete handles a completion that brought no bytes.
func (l *loop) uComplete(e uCQE, now int64) {
	c := l.uConn(e)
	if c == nil {
		return
	}
	switch e.userData & 0xff {
	case uTagPoll:
		if c.state == csConnecting {
			l.connectDone(c)
		}
	case uTagRecv:
		switch {
		case e.res == 0:
			l.onEOF(c, now)
		case e.res == -int32(unix.ENOBUFS):
			l.uRecv(c) // every buffer was taken: arm again, they come back this wake
		case e.res == -int32(unix.ECANCELED):
		case e.res < 0:
			l.fail(c, classify(unix.Errno(-e.res)), now)
		case e.flags&uCqeFMore == 0:
			l.uRecv(c)
		}
	case uTagSend:
		c.sending = false
		if e.res < 0 {
			if e.res != -int32(unix.ECANCELED) {
				l.fail(c, classify(unix.Errno(-e.res)), now)
			}
			return
		}
		c.wleft -= int(e.res)
		l.st.bytesWritten += int64(e.res)
		l.uSend(c)
	}
}
