package suite

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// A server that answers every priming request but closes every other
// connection afterwards is holding half of them, not all: stillOpen must
// see the closes.
func TestStillOpenCountsServerCloses(t *testing.T) {
	var n atomic.Int64
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1)%2 == 0 {
				w.Header().Set("Connection", "close")
			}
			w.Write([]byte("ok"))
		}),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	conns, err := holdIdle(context.Background(), ln.Addr().String(), "/", 20)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(conns)
	var open int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if open = stillOpen(conns); open == 10 {
			break
		}
	}
	if open != 10 {
		t.Fatalf("stillOpen = %d of 20, want 10 (the server closed every other connection)", open)
	}
}
