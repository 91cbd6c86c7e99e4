package main

// timers.go: the async style's waits. Each loop keeps its pending waits in a
// hashed timer wheel of wheelTick slots: a wait is appended to the slot of
// its deadline rounded up to the next tick (O(1), no allocation once the
// slots have grown), and all the waits of a slot are answered together. One
// goroutine per loop sleeps until the earliest non-empty slot and then hands
// the loop one task that answers every wait that is due: no goroutine per
// wait, at most one wake-up of the loop per tick, and the answers of one
// tick go out back to back, so that the clients' side wakes once for many.
//
// A wait is never answered early; it is answered at most one wheelTick (plus
// scheduling) late. asyncio keeps loop._scheduled in a heap; a heap costs
// O(log n) cache-missing steps per wait at thousands of waits, a wheel one
// append.

import (
	"context"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/serverlab/lab/internal/contract"
)

const (
	// wheelTick is the wheel's resolution: waits due within one tick are
	// answered together.
	wheelTick = int64(time.Millisecond)
	// wheelSlots covers 32.8 s of ticks, more than the longest wait
	// (contract.MaxIOMillis plus an emulated handshake); a longer one
	// would stay in its slot for as many turns as it needs.
	wheelSlots = 1 << 15
	wheelMask  = wheelSlots - 1
)

// timerQueue is one loop's pending waits. The loop owns slots, next, count,
// armed and free; the sleeper goroutine owns its timer; wake carries
// deadlines from the loop to the sleeper.
type timerQueue struct {
	el    gnet.EventLoop
	slots [wheelSlots][]timerEntry
	next  int64 // the first tick not yet expired
	count int   // waits in the wheel
	armed int64 // the tick the sleeper was last given; 0: none
	wake  chan int64
	fire  gnet.Runnable
	free  []*pending // answered /io pendings, for reuse on this loop
}

type timerEntry struct {
	at int64 // monoNow nanoseconds
	p  *pending
}

// newTimerQueue starts the loop's sleeper; it ends when done closes.
func newTimerQueue(el gnet.EventLoop, done <-chan struct{}) *timerQueue {
	tq := &timerQueue{el: el, wake: make(chan int64, 1), next: monoNow() / wheelTick}
	tq.fire = gnet.RunnableFunc(tq.expire)
	go tq.sleep(done)
	return tq
}

// after answers p with the /io body once ms have passed. On the loop.
func (tq *timerQueue) after(ms int, p *pending) {
	tq.afterNanos(int64(ms)*int64(time.Millisecond), p)
}

// afterNanos fires p once d nanoseconds have passed: it answers the /io
// body, or, when p.deferred, runs p's request. On the loop.
func (tq *timerQueue) afterNanos(d int64, p *pending) {
	at := monoNow() + d
	tick := (at + wheelTick - 1) / wheelTick // rounded up: never early
	if tick < tq.next {
		tick = tq.next
	}
	s := &tq.slots[tick&wheelMask]
	*s = append(*s, timerEntry{at: at, p: p})
	tq.count++
	if tq.armed == 0 || tick < tq.armed {
		tq.arm(tick)
	}
}

// newIOPending is newPending for an /io wait, reusing an answered one.
func (tq *timerQueue) newIOPending(cs *connState, seq uint32, meta respMeta, req contract.Request) *pending {
	if n := len(tq.free); n > 0 {
		p := tq.free[n-1]
		tq.free[n-1] = nil
		tq.free = tq.free[:n-1]
		*p = pending{cs: cs, home: cs.loop, seq: seq, meta: meta, req: req, pooled: true}
		return p
	}
	p := cs.newPending(seq, meta, req)
	p.pooled = true
	return p
}

// maxFreePendings bounds the free list.
const maxFreePendings = 4096

// arm tells the sleeper the earliest tick with waits, replacing an unread one.
func (tq *timerQueue) arm(tick int64) {
	tq.armed = tick
	select {
	case <-tq.wake:
	default:
	}
	tq.wake <- tick * wheelTick
}

// expire answers every wait that is due, then re-arms. On the loop.
func (tq *timerQueue) expire(context.Context) error {
	now := monoNow()
	last := now / wheelTick
	if tq.count == 0 {
		tq.next = last + 1
	}
	for ; tq.next <= last && tq.count > 0; tq.next++ {
		s := &tq.slots[tq.next&wheelMask]
		entries := *s
		kept := entries[:0]
		for i := range entries {
			e := entries[i]
			entries[i] = timerEntry{}
			if e.at > now { // a later turn of the wheel
				kept = append(kept, e)
				continue
			}
			tq.count--
			tq.run(e.p)
		}
		*s = kept
	}
	if tq.next <= last {
		tq.next = last + 1
	}
	tq.armed = 0
	if tq.count > 0 {
		for t := tq.next; ; t++ {
			if len(tq.slots[t&wheelMask]) > 0 {
				tq.arm(t)
				break
			}
		}
	}
	return nil
}

// run answers one wait that is due. On the loop.
func (tq *timerQueue) run(p *pending) {
	cs := p.cs
	switch {
	case cs.closed:
	case p.deferred:
		p.deferred = false
		cs.runDeferred(p)
		return
	default:
		ms := p.req.Params.Millis
		p.span.WaitEnd() // LAB_SPANS only
		p.status, p.ctype, p.body = 200, contract.ContentTypeJSON, contract.AppendIOBody(cs.loop.body[:0], ms)
		_ = p.Run(context.Background())
		p.span.End()
	}
	if p.pooled && len(tq.free) < maxFreePendings {
		*p = pending{}
		tq.free = append(tq.free, p)
	}
}

// preciseSlack is how early the sleeper's Go timer fires. When the runtime
// is idle its timers wake through epoll_wait, whose timeout is in whole
// milliseconds, so they fire up to a millisecond late; the sleeper finishes
// the last stretch with a blocking nanosleep, which is precise.
const preciseSlack = 2 * time.Millisecond

// sleep is the loop's sleeper goroutine: it waits for the armed deadline,
// then hands the loop its expire task. A deadline armed while it finishes
// the precise stretch waits for that stretch (at most preciseSlack): waits
// are never answered early, rarely a little late.
func (tq *timerQueue) sleep(done <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	var target int64
	for {
		select {
		case <-done:
			t.Stop()
			return
		case target = <-tq.wake:
			t.Reset(time.Duration(target-monoNow()) - preciseSlack)
		case <-t.C:
			if d := target - monoNow(); d > 0 {
				ts := syscall.NsecToTimespec(d)
				for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
				}
			}
			_ = tq.el.Execute(context.Background(), tq.fire)
		}
	}
}

// monoBase anchors monoNow: monotonic nanoseconds since the process started.
var monoBase = time.Now()

func monoNow() int64 { return int64(time.Since(monoBase)) }
