package suite

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/serverlab/lab/internal/contract"
	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/engine"
	"github.com/serverlab/lab/loadgen/results"
)

func collectEnv(o Options, nofile uint64) results.Environment {
	e := results.Environment{
		Date:         time.Now().UTC().Format(time.RFC3339),
		Cores:        runtime.NumCPU(),
		GoVersion:    runtime.Version(),
		NofileLimit:  nofile,
		ServerCPUs:   o.ServerCPUs,
		LoadCPUs:     o.LoadCPUs,
		LoadgenProcs: runtime.GOMAXPROCS(0),
		Affinity:     map[string]string{"loadgen": cpuList(unixCPUSet{}.allowed())},
		GOMAXPROCS:   map[string]int{},
		External:     len(o.Targets) > 0,
		Targets:      o.Targets,
		Loopback:     true,
	}
	e.Hostname, _ = os.Hostname()
	e.CPUModel = cpuModel()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		e.GitCommit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil {
			e.GitDirty = len(strings.TrimSpace(string(st))) > 0
		}
	} else if c := os.Getenv("LAB_GIT_COMMIT"); c != "" {
		e.GitCommit = c // containers have no .git: make passes the commit in
		e.GitDirty = os.Getenv("LAB_GIT_DIRTY") == "true" || os.Getenv("LAB_GIT_DIRTY") == "1"
	}
	for _, u := range o.Targets {
		pu, err := url.Parse(u)
		if err != nil || !strings.HasPrefix(pu.Hostname(), "127.") {
			e.Loopback = false
		}
	}
	if _, err := os.Stat("/.dockerenv"); err == nil {
		e.ContainerHint = "running inside a Docker container"
	}
	return e
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// calibrate measures the load generator's ceiling against the stripped
// reference responder, and the cost of one /cpu request's digest.
func (r *runner) calibrate(ctx context.Context) {
	c := &r.file.Calibration
	c.CPUWork = catalog.CPUWork
	// The digest's cost, measured here on the load CPUs (same CPU model as
	// the server's): the best of five runs of 20 digests.
	best := time.Duration(1 << 62)
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		for j := 0; j < 20; j++ {
			contract.CPUDigest(catalog.CPUWork)
		}
		best = min(best, time.Since(t0)/20)
	}
	c.CPUMsPerRequest = float64(best.Microseconds()) / 1000
	r.cpuMs = c.CPUMsPerRequest

	if len(r.o.Targets) > 0 {
		c.LoadgenCeilingRef = "not measured in external mode: saturation is flagged by the load generator's CPU alone"
		return
	}
	ref := catalog.Config{Name: "stripped-reference", Binary: "stripped"}
	srv, err := r.startServer(ctx, ref, r.o.ServerCPUs, "")
	if err != nil {
		c.LoadgenCeilingRef = "not measured: " + err.Error()
		return
	}
	r.track(srv)
	defer r.stopServers([]*server{srv})
	// One ceiling per pipeline depth the catalog uses: a pipelined row is
	// compared with what the load generator can do pipelined.
	r.ceiling = map[int]float64{}
	c.LoadgenCeilingByPipeline = map[string]float64{}
	c.LoadgenCeilingCPUByPipeline = map[string]float64{}
	c.LoadgenCeilingServerCPUByPipeline = map[string]float64{}
	var parts []string
	for _, depth := range pipelineDepths() {
		// Both sides' CPU: the closed loop is bounded by whichever is busy,
		// and only a busy load generator makes the rps its own ceiling.
		sm := srv.Sample(ctx, 0)
		cpu0, t0 := selfCPU(), time.Now()
		res, err := engine.Run(ctx, engine.Config{URL: srv.BaseURL + "/plaintext", Conns: 64, Pipeline: depth, Duration: r.calibrationWindow()}, nil)
		lg := (selfCPU() - cpu0).Seconds() / time.Since(t0).Seconds() / float64(runtime.GOMAXPROCS(0))
		su := sm.Finish(ctx)
		if err != nil {
			c.LoadgenCeilingRef = "not measured: " + err.Error()
			return
		}
		d := strconv.Itoa(depth)
		c.LoadgenCeilingByPipeline[d] = res.RPS
		c.LoadgenCeilingCPUByPipeline[d] = lg
		if su.WallS > 0 {
			c.LoadgenCeilingServerCPUByPipeline[d] = (su.CPUUserS + su.CPUSysS) / su.WallS
		}
		what := "the pair's ceiling, not applied: the load generator was not the bottleneck"
		if c.CeilingApplies(depth) {
			r.ceiling[depth] = res.RPS
			what = "the load generator's ceiling, applied"
		}
		parts = append(parts, fmt.Sprintf("%s rps at pipeline depth %d (load generator CPU %.0f %%, server %.0f %%: %s)",
			thousands(res.RPS), depth, 100*lg, 100*c.LoadgenCeilingServerCPUByPipeline[d], what))
	}
	c.LoadgenCeilingRPS = c.LoadgenCeilingByPipeline["1"]
	c.LoadgenCeilingRef = fmt.Sprintf("fast engine, c=64, /plaintext on the stripped reference responder (server CPUs %s, load CPUs %s)", r.o.ServerCPUs, r.o.LoadCPUs)
	r.logf("calibration: %s; one /cpu?work=%d costs %.3f ms", strings.Join(parts, ", "), catalog.CPUWork, c.CPUMsPerRequest)
}

// calibrationWindow is the ceiling measurement's window: the base window,
// at most a second.
func (r *runner) calibrationWindow() time.Duration { return min(r.o.Measure, time.Second) }

// thousands formats a count with thin separators: 116963 → "116,963".
func thousands(x float64) string {
	s := strconv.FormatInt(int64(x+0.5), 10)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}

// pipelineDepths lists the pipeline depths the catalog uses, 1 included.
func pipelineDepths() []int {
	seen := map[int]bool{1: true}
	out := []int{1}
	for _, s := range catalog.Scenarios {
		for _, p := range s.Points {
			if d := max(p.Pipeline, 1); !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	return out
}
