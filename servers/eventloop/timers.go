package main

// timers.go: the async style's waits. Each loop keeps its pending waits in a
// min-heap of deadlines, as asyncio keeps loop._scheduled. One goroutine per
// loop sleeps until the earliest deadline and then hands the loop one task
// that answers every wait that is due — no goroutine per wait, and one
// wake-up of the loop per batch rather than per request.

import (
	"container/heap"
	"context"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/serverlab/lab/internal/contract"
)

// timerQueue is one loop's pending waits. The loop owns h and armed; the
// sleeper goroutine owns its timer; wake carries deadlines from the loop to
// the sleeper.
type timerQueue struct {
	el    gnet.EventLoop
	h     timerHeap
	armed int64 // the deadline the sleeper was last given; 0: none
	wake  chan int64
	fire  gnet.Runnable
}

type timerEntry struct {
	at int64 // monoNow nanoseconds
	p  *pending
}

type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = timerEntry{}
	*h = old[:len(old)-1]
	return e
}

// newTimerQueue starts the loop's sleeper; it ends when done closes.
func newTimerQueue(el gnet.EventLoop, done <-chan struct{}) *timerQueue {
	tq := &timerQueue{el: el, wake: make(chan int64, 1)}
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
	heap.Push(&tq.h, timerEntry{at: at, p: p})
	if tq.armed == 0 || at < tq.armed {
		tq.arm(at)
	}
}

// arm tells the sleeper the earliest deadline, replacing an unread one.
func (tq *timerQueue) arm(at int64) {
	tq.armed = at
	select {
	case <-tq.wake:
	default:
	}
	tq.wake <- at
}

// expire answers every wait that is due, then re-arms. On the loop.
func (tq *timerQueue) expire(context.Context) error {
	now := monoNow()
	for len(tq.h) > 0 && tq.h[0].at <= now {
		p := heap.Pop(&tq.h).(timerEntry).p
		if p.deferred && !p.cs.closed {
			p.deferred = false
			p.cs.runDeferred(p)
		} else if !p.cs.closed {
			ms := p.req.Params.Millis
			p.status, p.ctype, p.body = 200, contract.ContentTypeJSON, contract.AppendIOBody(p.cs.loop.body[:0], ms)
			_ = p.Run(context.Background())
		}
	}
	tq.armed = 0
	if len(tq.h) > 0 {
		tq.arm(tq.h[0].at)
	}
	return nil
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
