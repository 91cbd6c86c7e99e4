package engine

import (
	"context"
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
// installed) must agree on the median latency within 2 ms and both see only
// 200s. It checks what is measured, not how fast.
func TestAgreesWithWrk(t *testing.T) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not installed (Debian package wrk); .ci/run installs it")
	}
	url := httpServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, "ok")
	})
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
	wrkP50, _ := strconv.ParseFloat(string(m[1]), 64)
	switch string(m[2]) {
	case "us":
		wrkP50 /= 1000
	case "s":
		wrkP50 *= 1000
	}
	if regexp.MustCompile(`Non-2xx|Socket errors`).Match(out) || res.Errors != 0 {
		t.Errorf("errors: fast %d, wrk:\n%s", res.Errors, out)
	}
	fastP50 := *res.Latency.P50
	t.Logf("p50: fast %.2f ms, wrk %.2f ms", fastP50, wrkP50)
	if d := fastP50 - wrkP50; d > 2 || d < -2 {
		t.Errorf("p50 disagrees: fast %.2f ms, wrk %.2f ms", fastP50, wrkP50)
	}
}
