package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestAgreesWithWrk is the independent cross-check: against a server that
// answers in a known 20 ms, the fast engine and wrk (Debian's package, when
// installed) must agree on the median latency within 2 % or 50 µs,
// whichever is larger, and both see only 200s. It checks what is
// measured, not how fast.
func TestAgreesWithWrk(t *testing.T) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not installed (Debian package wrk); .ci/run installs it")
	}
	url := httpServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, "ok")
	})
	var last string
	for attempt := 1; attempt <= 3; attempt++ {
		fastP50, wrkP50 := agreeOnce(t, wrk, url)
		// The cross-check of issue 17: within 2 % or 50 µs, whichever is
		// larger. A noisy neighbour can shift one run; an engine bias
		// shifts all three attempts.
		tol := max(0.02*wrkP50, 0.05)
		last = fmt.Sprintf("p50: fast %.3f ms, wrk %.3f ms (tolerance %.3f ms)", fastP50, wrkP50, tol)
		t.Logf("attempt %d: %s", attempt, last)
		if d := fastP50 - wrkP50; d <= tol && d >= -tol {
			return
		}
	}
	t.Errorf("p50 disagrees: %s", last)
}

// agreeOnce runs the fast engine and wrk once each against url and returns
// their p50s in ms.
func agreeOnce(t *testing.T, wrk, url string) (fastP50, wrkP50 float64) {
	t.Helper()
	res, err := Run(context.Background(), Config{URL: url, Conns: 4, Duration: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(wrk, "-t1", "-c4", "-d1s", "--latency", url).CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^\s+50%\s+([\d.]+)(us|ms|s)\s*$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no p50 in wrk's output:\n%s", out)
	}
	wrkP50, _ = strconv.ParseFloat(string(m[1]), 64)
	switch string(m[2]) {
	case "us":
		wrkP50 /= 1000
	case "s":
		wrkP50 *= 1000
	}
	if regexp.MustCompile(`Non-2xx|Socket errors`).Match(out) || res.Errors != 0 {
		t.Errorf("errors: fast %d, wrk:\n%s", res.Errors, out)
	}
	return *res.Latency.P50, wrkP50
}
