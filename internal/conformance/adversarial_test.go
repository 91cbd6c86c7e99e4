package conformance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/labtest"
	"github.com/serverlab/lab/internal/procstat"
)

// The adversarial battery: hostile clients against every server
// configuration, each beside a bystander, a well-behaved client that sends
// GET /plaintext on its own keep-alive connection.
//
// `make test` (TestAdversarial) asserts only what timing cannot change: the
// hostile client is eventually closed or throttled (the server stops
// reading it), and a bystander request sent during the attack is answered
// 200. `make adversarial` (TestAdversarialReport, LAB_ADVERSARIAL=1,
// non-race builds) runs the same attacks longer and reports the server's
// RSS growth over its idle baseline and the bystander's latency
// percentiles; it asserts nothing, and holds no targets.

// attackEnv is what an attack gets: the server, its flags, and how long to run.
type attackEnv struct {
	addr string
	pid  int
	dur  time.Duration
	bh   *blackHole // the black-hole dependency, for the attack that uses one
	// blocksOnWait: the configuration serves waits on its only event loop
	// (eventloop-inline), so attacks made of waits are cut down to a few.
	blocksOnWait bool
}

// attack is one hostile client. run drives it until ctx is done and returns
// the facts `make test` asserts (nil: held) and a one-line summary.
type attack struct {
	name string
	args func(t testing.TB, env *attackEnv) []string // server flags this attack needs
	run  func(ctx context.Context, t testing.TB, env *attackEnv) (summary string, err error)
	// long: the report runs it for the report's full duration (30 s by default).
	long bool
	// waits: the attack is made of waits (/io, dependency calls). On a
	// configuration that serves waits on its only event loop
	// (eventloop-inline), every request queues behind them: that is the
	// model (claim 4), not a defect, so no bystander runs there.
	waits bool
}

var attacks = []attack{
	{name: "pipeline-noread-io", run: pipelineNoRead("/io?ms=10000"), long: true, waits: true},
	{name: "pipeline-noread-plaintext", run: pipelineNoRead("/plaintext"), long: true},
	{name: "huge-body-flood", run: hugeBodyFlood},
	{name: "half-headers", run: halfHeaders, args: func(testing.TB, *attackEnv) []string {
		return []string{"-read-header-timeout", halfHeaderTimeout.String()}
	}},
	{name: "reset-mid-response", run: resetMidResponse},
	{name: "dependency-black-hole", run: dependencyBlackHole, waits: true, args: func(t testing.TB, env *attackEnv) []string {
		env.bh = newBlackHole(t)
		return []string{"-dependency", env.bh.Addr(), "-dependency-timeout", blackHoleTimeout.String()}
	}},
}

const (
	halfHeaderTimeout = 2 * time.Second
	blackHoleTimeout  = 2 * time.Second
	// stallAfter: a write that makes no progress for this long means the
	// server has stopped reading the connection: throttled.
	stallAfter = time.Second
	// noReadCap bounds what a throttling server may take from a client that
	// never reads: the kernel's socket buffers (tcp_rmem allows 32 MiB here),
	// the server's own per-connection buffers, and the requests whose
	// answers fill the buffers on the way back, with room to spare.
	noReadCap      = 128 << 20
	noReadPatience = 60 * time.Second
)

// halfHeaderConns is how many half-header connections the attack holds:
// 10,000, within the 20,000 open-file cap of this test process and the server.
func halfHeaderConns() int {
	if testing.Short() {
		return 1000
	}
	return 10_000
}

// pipelineNoRead pipelines GET target on one connection as fast as the
// server takes it, never reading an answer. The server must throttle it
// (stop reading: a write makes no progress for stallAfter) or close it
// before the client has written noReadCap bytes, however long that takes
// (up to noReadPatience): a cap on bytes, not on time, so a slow (race-built,
// loaded) server passes as long as it stops reading in the end. The client
// keeps its own socket buffers small, so that the kernel holds little of it.
func pipelineNoRead(target string) func(ctx context.Context, t testing.TB, env *attackEnv) (string, error) {
	return func(ctx context.Context, t testing.TB, env *attackEnv) (string, error) {
		c, err := net.DialTimeout("tcp", env.addr, 5*time.Second)
		if err != nil {
			return "", err
		}
		defer c.Close()
		tc := c.(*net.TCPConn)
		tc.SetReadBuffer(64 << 10)
		tc.SetWriteBuffer(64 << 10)
		chunk := []byte(strings.Repeat("GET "+target+" HTTP/1.1\r\nHost: lab\r\n\r\n", 256))
		var written int64
		stalled, closed := false, false
		give := time.Now().Add(noReadPatience)
		// Until the attack's time is up and the outcome is known.
		for (ctx.Err() == nil || !(stalled || closed || written > noReadCap)) && time.Now().Before(give) {
			c.SetWriteDeadline(time.Now().Add(stallAfter))
			n, err := c.Write(chunk)
			written += int64(n)
			var ne net.Error
			switch {
			case err == nil:
			case errors.As(err, &ne) && ne.Timeout():
				if n == 0 {
					stalled = true
				}
			default:
				closed = true
			}
			if closed {
				break
			}
			if stalled {
				// Keep the connection; look again later, as a patient attacker would.
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
		summary := fmt.Sprintf("wrote %.1f MiB; stalled %v, closed %v", float64(written)/(1<<20), stalled, closed)
		if written > noReadCap || !(stalled || closed) {
			return summary, fmt.Errorf("the server kept reading a client that never reads (%s): neither throttled nor closed within %d MiB", summary, noReadCap>>20)
		}
		return summary, nil
	}
}

// hugeBodyFlood sends, on 4 connections, pipelined requests each with a
// body at the contract's limit (1 MiB), never reading the answers. The
// server must keep answering the bystander; it may read the bodies, throttle
// or close.
func hugeBodyFlood(ctx context.Context, t testing.TB, env *attackEnv) (string, error) {
	const conns = 4
	body := make([]byte, 1<<20)
	head := []byte("GET /plaintext HTTP/1.1\r\nHost: lab\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	var written atomic.Int64
	var closed atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", env.addr, 5*time.Second)
			if err != nil {
				return
			}
			defer c.Close()
			for ctx.Err() == nil {
				c.SetWriteDeadline(time.Now().Add(stallAfter))
				n1, err := c.Write(head)
				n2, err2 := 0, err
				if err == nil {
					n2, err2 = c.Write(body)
				}
				written.Add(int64(n1 + n2))
				var ne net.Error
				if err2 != nil && !(errors.As(err2, &ne) && ne.Timeout()) {
					closed.Add(1)
					return
				}
			}
		}()
	}
	wg.Wait()
	return fmt.Sprintf("%d connections wrote %.0f MiB of bodies; %d closed by the server", conns, float64(written.Load())/(1<<20), closed.Load()), nil
}

// halfHeaders opens halfHeaderConns connections that each send half a
// request head and then nothing. The server must close them all once its
// header timeout passes (the server runs with -read-header-timeout 2s).
func halfHeaders(ctx context.Context, t testing.TB, env *attackEnv) (string, error) {
	n := halfHeaderConns()
	conns := make([]net.Conn, n)
	var dialErrs atomic.Int32
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n { // all n are opened, however long that takes
					return
				}
				c, err := net.DialTimeout("tcp", env.addr, 10*time.Second)
				if err != nil {
					dialErrs.Add(1)
					continue
				}
				io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHo")
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	// Every held connection must be closed by the server: each waits, in its
	// own goroutine, for EOF or a reset, until the attack ends plus the
	// header timeout and some slack.
	// The server's timeout starts at its accept, which a loaded server may
	// reach late for the last of 10,000 connections: wait generously.
	deadline := time.Now().Add(max(time.Until(ctxDeadline(ctx)), 0) + halfHeaderTimeout + 60*time.Second)
	var open, held atomic.Int32
	var rg sync.WaitGroup
	for _, c := range conns {
		if c == nil {
			continue
		}
		held.Add(1)
		rg.Add(1)
		go func() {
			defer rg.Done()
			c.SetReadDeadline(deadline)
			buf := make([]byte, 512)
			for {
				_, err := c.Read(buf)
				if err == nil {
					continue // a 408 or 400 before the close
				}
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					open.Add(1)
				}
				return
			}
		}()
	}
	rg.Wait()
	summary := fmt.Sprintf("%d half-header connections held (%d dials failed); %d still open 60 s after the header timeout", held.Load(), dialErrs.Load(), open.Load())
	if open.Load() > 0 {
		return summary, fmt.Errorf("%s", summary)
	}
	if held.Load() < int32(n*9/10) {
		return summary, fmt.Errorf("only %d of %d half-header connections could be opened", held.Load(), n)
	}
	return summary, nil
}

func ctxDeadline(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Now()
	}
	return d
}

// resetMidResponse opens connections in 8 goroutines, pipelines 64 requests
// on each, reads a few bytes of the answers and resets the connection
// (SO_LINGER 0). The server must survive it and release every connection.
func resetMidResponse(ctx context.Context, t testing.TB, env *attackEnv) (string, error) {
	before := settledFDsTB(t, env.pid)
	req := strings.Repeat("GET /json HTTP/1.1\r\nHost: lab\r\n\r\n", 64)
	var resets atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 100)
			for ctx.Err() == nil {
				c, err := net.DialTimeout("tcp", env.addr, 5*time.Second)
				if err != nil {
					continue
				}
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.WriteString(c, req)
				io.ReadFull(c, buf)
				c.(*net.TCPConn).SetLinger(0) // close sends RST
				c.Close()
				resets.Add(1)
			}
		}()
	}
	wg.Wait()
	var after int
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(100 * time.Millisecond) {
		if after = treeFDsTB(t, env.pid); after <= before+2 {
			break
		}
	}
	summary := fmt.Sprintf("%d connections reset mid-response; open fds %d before, %d after", resets.Load(), before, after)
	if after > before+2 {
		return summary, fmt.Errorf("reset connections were not released: %s", summary)
	}
	return summary, nil
}

// dependencyBlackHole sends par fan-outs, each from its own connection, to
// a server whose dependency accepts and never answers. Every fan-out must
// get 504, and every dependency connection must be closed.
func dependencyBlackHole(ctx context.Context, t testing.TB, env *attackEnv) (string, error) {
	n := 32
	if env.blocksOnWait {
		n = 3 // each call holds the only loop for the whole timeout
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for round := 0; ctx.Err() == nil || round == 0; round++ {
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, _ := rawGetStatus(env.addr, "/fanout?calls=3&ms=10&mode=par", 60*time.Second)
				if statuses[i] == 0 || statuses[i] == 504 {
					statuses[i] = st
				}
			}()
		}
		wg.Wait()
	}
	bad := 0
	for _, s := range statuses {
		if s != 504 {
			bad++
		}
	}
	var open, total int
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(100 * time.Millisecond) {
		if open, total = env.bh.openConns(); open == 0 {
			break
		}
	}
	summary := fmt.Sprintf("%d concurrent fan-outs per round: %d not 504; black hole: %d of %d dependency connections still open", n, bad, open, total)
	if bad > 0 || open > 0 {
		return summary, fmt.Errorf("%s (statuses %v)", summary, statuses)
	}
	return summary, nil
}

// rawGetStatus sends one request with Connection: close and returns its status (0 on error).
func rawGetStatus(addr, target string, timeout time.Duration) (int, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func settledFDsTB(t testing.TB, pid int) int {
	n, since := treeFDsTB(t, pid), time.Now()
	for start := time.Now(); time.Since(since) < 500*time.Millisecond && time.Since(start) < 10*time.Second; time.Sleep(50 * time.Millisecond) {
		if m := treeFDsTB(t, pid); m != n {
			n, since = m, time.Now()
		}
	}
	return n
}

func treeFDsTB(t testing.TB, pid int) int {
	s, err := procstat.Tree(pid)
	if err != nil {
		t.Fatal(err)
	}
	return s.OpenFDs
}

// bystander sends GET /plaintext on its own keep-alive connection, one
// after another with a 10 ms pause, until stop closes, and records each
// latency. A request still in flight when stop closes is waited for (up
// to 60 s), so that "answered" does not depend on the attack's length.
type bystander struct {
	lat      []time.Duration
	failures []string
}

func runBystander(addr string, stop <-chan struct{}) *bystander {
	b := &bystander{}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	for {
		t0 := time.Now()
		resp, err := client.Get("http://" + addr + "/plaintext")
		if err != nil {
			b.failures = append(b.failures, err.Error())
		} else {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.failures = append(b.failures, "status "+strconv.Itoa(resp.StatusCode))
			} else {
				b.lat = append(b.lat, time.Since(t0))
			}
		}
		select {
		case <-stop:
			return b
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (b *bystander) percentile(q float64) time.Duration {
	if len(b.lat) == 0 {
		return 0
	}
	s := slices.Clone(b.lat)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// runAttack starts a fresh server for one attack, runs the attack and a
// bystander for dur, and samples the server tree's RSS. It returns the
// attack's facts and the figures.
type attackFigures struct {
	summary          string
	err              error
	idleRSS, peakRSS int64
	by               *bystander
	noBystander      bool // see attack.waits
}

func runAttack(t testing.TB, s server, a attack, dur time.Duration, cpus string) attackFigures {
	env := &attackEnv{dur: dur, blocksOnWait: slices.Contains(s.args, "inline")}
	// A short grace: requests the attack left in flight (10 s waits) must
	// not slow the stop down.
	extra := []string{"-shutdown-grace", "500ms"}
	if a.args != nil {
		extra = append(extra, a.args(t, env)...)
	}
	p := labtest.Start(t, labtest.Binary(t, s.pkg), cpus, append(extra, s.args...)...)
	env.addr, env.pid = p.Addr, p.Pid()
	// Idle baseline: after one request, once the tree's fds have settled.
	if st, err := rawGetStatus(p.Addr, "/plaintext", 10*time.Second); err != nil || st != 200 {
		t.Fatalf("warm-up: %d %v", st, err)
	}
	settledFDsTB(t, env.pid)
	idle, err := procstat.Tree(env.pid)
	if err != nil {
		t.Fatal(err)
	}
	f := attackFigures{idleRSS: idle.RSSBytes, peakRSS: idle.RSSBytes}

	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	stopSampling := make(chan struct{})
	sampled := make(chan int64)
	go func() {
		peak := idle.RSSBytes
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				sampled <- peak
				return
			case <-tick.C:
				if s, err := procstat.Tree(env.pid); err == nil {
					peak = max(peak, s.RSSBytes)
				}
			}
		}
	}()
	stopBy := make(chan struct{})
	byDone := make(chan *bystander, 1)
	f.noBystander = env.blocksOnWait && a.waits
	if f.noBystander {
		byDone <- &bystander{}
	} else {
		go func() {
			time.Sleep(200 * time.Millisecond) // the attack is under way
			byDone <- runBystander(p.Addr, stopBy)
		}()
	}
	f.summary, f.err = a.run(ctx, t, env)
	<-ctx.Done()
	close(stopBy)
	f.by = <-byDone
	close(stopSampling)
	f.peakRSS = <-sampled
	return f
}

// TestAdversarial: every attack against every configuration, briefly,
// asserting the timing-independent facts.
func TestAdversarial(t *testing.T) {
	dur := 3 * time.Second
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			for _, a := range attacks {
				t.Run(a.name, func(t *testing.T) {
					f := runAttack(t, s, a, dur, "")
					t.Logf("%s; bystander: %d answered, %d failed, p99 %v; RSS %.1f → %.1f MiB",
						f.summary, len(f.by.lat), len(f.by.failures), f.by.percentile(0.99),
						float64(f.idleRSS)/(1<<20), float64(f.peakRSS)/(1<<20))
					if f.err != nil {
						t.Error(f.err)
					}
					if f.noBystander {
						t.Logf("no bystander: %s serves waits on its only loop (claim 4)", s.name)
						return
					}
					if len(f.by.lat) == 0 {
						t.Errorf("the bystander got no answer during the attack: %v", f.by.failures)
					}
					if len(f.by.failures) > 0 {
						t.Errorf("bystander requests failed during the attack: %v", f.by.failures[:min(3, len(f.by.failures))])
					}
				})
			}
		})
	}
}

// TestAdversarialReport is `make adversarial`: each attack for
// LAB_ADVERSARIAL_SECONDS (default 30) for the never-reading pipeliners
// and a third of that for the others, against non-race builds, printing
// the server's RSS growth and the bystander's latency. The goals
// (≤ 64 MiB above idle, bystander p99 ≤ 50 ms, under the pipeliner) are
// printed beside the figures; nothing is asserted.
func TestAdversarialReport(t *testing.T) {
	if os.Getenv("LAB_ADVERSARIAL") != "1" {
		t.Skip("make adversarial runs this (LAB_ADVERSARIAL=1): it takes minutes and reports figures")
	}
	if os.Getenv("LABTEST_RACE") == "1" {
		t.Skip("figures from race-built servers mean nothing: run without LABTEST_RACE")
	}
	secs := 30
	if v := os.Getenv("LAB_ADVERSARIAL_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 3 {
			t.Fatalf("LAB_ADVERSARIAL_SECONDS=%q: want an integer ≥ 3", v)
		}
		secs = n
	}
	// The servers on CPU 0; run the test itself on the other CPUs
	// (make adversarial runs it under taskset -c 1).
	reportCPUs := ""
	if runtime.NumCPU() > 1 {
		reportCPUs = "0"
	}
	var rows []string
	for _, s := range servers {
		for _, a := range attacks {
			dur := time.Duration(secs) * time.Second
			if !a.long {
				dur /= 3
			}
			t.Run(s.name+"/"+a.name, func(t *testing.T) {
				f := runAttack(t, s, a, dur, reportCPUs)
				if f.noBystander {
					f.summary += "; no bystander: waits run on the only loop (claim 4)"
				}
				growth := float64(f.peakRSS-f.idleRSS) / (1 << 20)
				if f.err != nil {
					f.summary += " **" + f.err.Error() + "**"
				}
				row := fmt.Sprintf("| %s | %s | %.0f s | %.1f | %+.1f | %d | %v | %v | %v | %d | %s |",
					s.name, a.name, dur.Seconds(), float64(f.idleRSS)/(1<<20), growth,
					len(f.by.lat), f.by.percentile(0.5).Round(10*time.Microsecond), f.by.percentile(0.99).Round(10*time.Microsecond),
					f.by.percentile(1).Round(10*time.Microsecond), len(f.by.failures), f.summary)
				rows = append(rows, row)
				t.Log(row)
			})
		}
	}
	out := os.Stdout
	if path := os.Getenv("LAB_ADVERSARIAL_OUT"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		out = f
	}
	fmt.Fprintln(out, "\nAdversarial battery (goal under the never-reading pipeliner: RSS ≤ +64 MiB over idle, bystander p99 ≤ 50 ms)")
	fmt.Fprintln(out, "| server | attack | for | idle RSS MiB | peak growth MiB | bystander answers | p50 | p99 | max | bystander failures | hostile client |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintln(out, r)
	}
}
