package swarm

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/suite"
)

func startAgents(t *testing.T, ctx context.Context, base string, n, jobs int) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			RunAgent(ctx, AgentConfig{Rendezvous: base, ID: string(rune('a' + i)), MaxJobs: jobs})
		}()
	}
	return &wg
}

// TestRendezvousTwoAgents: two agents register, get the start signal for
// the same point, and the merged repetition's counts are the exact sums of
// the two replicas'. The agents start before the coordinator listens,
// as Swarm may start them: they must wait for it.
func TestRendezvousTwoAgents(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("Hello, World!")) }))
	defer target.Close()
	c := NewCoordinator(2)
	c.Ready = 20 * time.Second
	if err := c.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr := c.Addr()
	c.Close() // agents first see nothing there
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	wg := startAgents(t, ctx, "http://"+addr, 2, 2)
	time.Sleep(300 * time.Millisecond)
	c = NewCoordinator(2)
	c.Ready = 20 * time.Second
	if err := c.Listen(addr); err != nil {
		t.Skipf("could not listen again on %s: %v", addr, err)
	}
	defer c.Close()
	for job := 0; job < 2; job++ {
		p := catalog.Point{Label: "c=5", Conns: 5}
		rp, err := c.Measure(ctx, target.URL+"/", p, suite.Window{Warmup: 50 * time.Millisecond, Measure: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if len(rp.Replicas) != 2 {
			t.Fatalf("%d replicas, want 2", len(rp.Replicas))
		}
		var req, conns int64
		for _, r := range rp.Replicas {
			req += r.Requests
			conns += int64(r.Conns)
			if r.Requests == 0 {
				t.Errorf("replica %s made no request", r.Agent)
			}
		}
		if req != rp.Requests || conns != 5 {
			t.Fatalf("replicas made %d requests on %d conns; merged row says %d (want the same, on 5 conns)", req, conns, rp.Requests)
		}
	}
	cancel()
	wg.Wait()
}

// TestRendezvousReplicaFails: one agent cannot reach the target; the
// repetition fails instead of reporting the other agent's half.
func TestRendezvousReplicaFails(t *testing.T) {
	c := NewCoordinator(2)
	c.Ready = 20 * time.Second
	if err := c.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	wg := startAgents(t, ctx, "http://"+c.Addr(), 2, 1)
	// Nothing listens on this port (a listener closed at once).
	l := httptest.NewServer(http.NotFoundHandler())
	url := l.URL
	l.Close()
	_, err := c.Measure(ctx, url+"/", catalog.Point{Label: "c=2", Conns: 2}, suite.Window{Warmup: 10 * time.Millisecond, Measure: 100 * time.Millisecond})
	if !errors.Is(err, ErrReplica) {
		t.Fatalf("err = %v, want ErrReplica", err)
	}
	cancel()
	wg.Wait()
}

// TestRendezvousNotEnoughAgents: with one agent of two, Measure says so
// when the readiness wait ends, instead of measuring with one.
func TestRendezvousNotEnoughAgents(t *testing.T) {
	c := NewCoordinator(2)
	c.Ready = 700 * time.Millisecond
	if err := c.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wg := startAgents(t, ctx, "http://"+c.Addr(), 1, 1)
	_, err := c.Measure(ctx, "http://127.0.0.1:1/", catalog.Point{Label: "c=2", Conns: 2}, suite.Window{Measure: 100 * time.Millisecond})
	if !errors.Is(err, ErrReplica) {
		t.Fatalf("err = %v, want ErrReplica (only one agent)", err)
	}
	cancel()
	wg.Wait()
}

func TestSplit(t *testing.T) {
	got, _, err := Split(catalog.Point{Conns: 7}, 3)
	if err != nil || len(got) != 3 || got[0] != 3 || got[1] != 2 || got[2] != 2 {
		t.Fatalf("Split(7, 3) = %v, %v; want [3 2 2]", got, err)
	}
	if _, _, err := Split(catalog.Point{Conns: 1}, 2); err == nil {
		t.Fatal("Split(1 conn, 2 replicas) did not fail")
	}
}
