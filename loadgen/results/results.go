// Package results is the schema of DIR/results.json: what `loadgen suite`
// writes and `loadgen report` reads. It is documented field by field here,
// and SCHEMA.md beside it gives the overview. Values are plain data, owned
// by whoever holds them; nothing here is safe for concurrent mutation.
package results

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/serverlab/lab/loadgen/catalog"
)

// SchemaVersion names this layout; readers refuse other versions.
const SchemaVersion = "serverlab-results/1"

// File is the whole results.json.
type File struct {
	Schema      string      `json:"schema"`
	Environment Environment `json:"environment"`
	Options     Options     `json:"options"`
	Calibration Calibration `json:"calibration"`
	Scenarios   []Scenario  `json:"scenarios"`
	// Complete is false when the run was interrupted: what is here was
	// measured, the rest is missing.
	Complete bool `json:"complete"`
	// Failures lists what went wrong without stopping the run: a target
	// that never answered, a skipped scenario, a failed repetition.
	Failures []string `json:"failures,omitempty"`
	WallS    float64  `json:"wall_s"`
}

// Environment is the machine and the software the numbers come from.
type Environment struct {
	Date          string            `json:"date"` // RFC 3339, UTC
	Hostname      string            `json:"hostname"`
	CPUModel      string            `json:"cpu_model"`
	Cores         int               `json:"cores"` // online CPUs
	Kernel        string            `json:"kernel"`
	GoVersion     string            `json:"go_version"`
	GitCommit     string            `json:"git_commit"`
	GitDirty      bool              `json:"git_dirty"`
	NofileLimit   uint64            `json:"nofile_limit"` // the suite's soft limit after raising it to the hard cap
	ServerCPUs    string            `json:"server_cpus"`  // taskset list for servers ("" in external mode)
	LoadCPUs      string            `json:"load_cpus"`    // taskset list of the load generator and dependency
	LoadgenProcs  int               `json:"loadgen_gomaxprocs"`
	Affinity      map[string]string `json:"affinity"`   // process → CPU list it was pinned to
	GOMAXPROCS    map[string]int    `json:"gomaxprocs"` // server config → GOMAXPROCS it reported
	External      bool              `json:"external"`   // -targets: servers not started by the suite
	Targets       map[string]string `json:"targets,omitempty"`
	Notes         []string          `json:"notes,omitempty"`
	Loopback      bool              `json:"loopback"` // every target is on 127.0.0.0/8
	ContainerHint string            `json:"container_hint,omitempty"`
}

// Options are the suite's settings for this run.
type Options struct {
	Quick     bool     `json:"quick"`
	Reps      int      `json:"reps"`
	WarmupS   float64  `json:"warmup_s"`
	MeasureS  float64  `json:"measure_s"`
	Scenarios []string `json:"scenarios"`
	Command   string   `json:"command"` // the command line that reproduces the run
}

// Calibration holds what the suite measured before the scenarios.
type Calibration struct {
	// LoadgenCeilingRPS is the most /plaintext requests per second the load
	// generator drove at c=64 against the stripped reference responder on
	// the server CPUs. Rows at ≥ 90 % of it are flagged as loadgen-bound
	// only where CeilingApplies (the load generator was the busy side).
	LoadgenCeilingRPS float64 `json:"loadgen_ceiling_rps"`
	LoadgenCeilingRef string  `json:"loadgen_ceiling_ref"` // what was measured, or why not
	// LoadgenCeilingByPipeline: the ceiling at each pipeline depth the
	// catalog uses ("1", "16"); LoadgenCeilingRPS is the depth-1 value.
	LoadgenCeilingByPipeline map[string]float64 `json:"loadgen_ceiling_by_pipeline,omitempty"`
	// The calibration is a closed loop bounded by both sides, so its rps is
	// the pair's ceiling unless the load generator was the busy side.
	// LoadgenCeilingCPUByPipeline is the load generator's own CPU during it
	// (getrusage ÷ wall ÷ its GOMAXPROCS: 1.0 = its cores busy) and
	// LoadgenCeilingServerCPUByPipeline the stripped responder's (cores
	// busy, from /proc). A ceiling is applied to rows (saturation) only
	// where CeilingApplies says the load generator was the bottleneck.
	LoadgenCeilingCPUByPipeline       map[string]float64 `json:"loadgen_ceiling_cpu_by_pipeline,omitempty"`
	LoadgenCeilingServerCPUByPipeline map[string]float64 `json:"loadgen_ceiling_server_cpu_by_pipeline,omitempty"`
	// CPUMsPerRequest is the measured time of one /cpu?work=CPUWork digest
	// on this machine, for the cpu scenario's Little bound.
	CPUMsPerRequest float64 `json:"cpu_ms_per_request"`
	CPUWork         int     `json:"cpu_work"`
}

// CeilingBoundCPU: the calibration's load generator must use at least this
// share of its cores for its rps to count as the load generator's own
// ceiling (the same 90 % as the suite's CPU saturation rule).
const CeilingBoundCPU = 0.90

// CeilingApplies reports whether the calibration at pipeline depth showed
// the load generator as the bottleneck (its CPU ≥ CeilingBoundCPU), so that
// its rps is the load generator's ceiling rather than the pair's. A file
// without the CPU (written before it was recorded) says false: nothing
// showed the load generator to be the limit.
func (c Calibration) CeilingApplies(depth int) bool {
	cpu, ok := c.LoadgenCeilingCPUByPipeline[strconv.Itoa(max(depth, 1))]
	return ok && cpu >= CeilingBoundCPU
}

// Scenario is one catalog scenario's measurements.
type Scenario struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	Question string `json:"question"`
	Claims   []int  `json:"claims"`
	Rows     []Row  `json:"rows"`
	Skipped  string `json:"skipped,omitempty"` // why the scenario did not run
}

// Stat is a number over the repetitions: the median, the spread, and the
// interval that every comparison uses (see interval.go: the one definition).
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
	// Lo and Hi bound the median: a 95 % bootstrap interval with at least
	// BootstrapMinReps repetitions (Kind "ci95"), the [min–max] range with
	// fewer (Kind "range"). A file written before intervals existed has no
	// Kind; Interval then falls back to the range.
	Lo   float64 `json:"lo"`
	Hi   float64 `json:"hi"`
	Kind string  `json:"kind,omitempty"`
}

// Of summarises xs (NaNs and infinities dropped): median, range, and the
// interval of the median. An empty input gives N = 0 and zeros.
func Of(xs []float64) Stat {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Stat{}
	}
	sort.Float64s(v)
	s := Stat{Median: median(v), Min: v[0], Max: v[len(v)-1], N: len(v)}
	s.Lo, s.Hi, s.Kind = medianInterval(v)
	return s
}

// Row is one (configuration, point) of a scenario, over its repetitions.
type Row struct {
	Scenario  string        `json:"scenario"`
	Config    string        `json:"config"`
	Model     string        `json:"model"`
	Style     string        `json:"style"`
	Twin      string        `json:"twin"`
	Point     catalog.Point `json:"point"`
	LoadModel string        `json:"load_model"` // "closed", "open", or "idle"

	// Little's law: the throughput bound of this configuration at this
	// point, and how it was derived. Null where no bound applies
	// (plaintext: the CPU is the limit and its cost is what is measured).
	LittleBoundRPS *float64 `json:"little_bound_rps"`
	LittleFormula  string   `json:"little_formula"`
	LittleFraction *Stat    `json:"little_fraction"` // rps ÷ bound

	RPS         Stat `json:"rps"`
	P50Ms       Stat `json:"p50_ms"`
	P90Ms       Stat `json:"p90_ms"`
	P99Ms       Stat `json:"p99_ms"`
	MaxMs       Stat `json:"max_ms"`
	Errors      Stat `json:"errors"`      // failed requests plus non-2xx, per repetition
	ErrorRate   Stat `json:"error_rate"`  // errors ÷ requests
	Concurrency Stat `json:"concurrency"` // measured: rps × mean latency (Little's L)

	// Server resources (local mode from /proc; external mode from /stats).
	Server ServerUse `json:"server"`
	// The canary: a slow open-loop /plaintext probe on its own connections
	// during the load. Null where the scenario has none.
	Canary *Canary `json:"canary,omitempty"`
	// Idle-connection points.
	Idle *Idle `json:"idle,omitempty"`

	Loadgen LoadgenUse `json:"loadgen"`
	// Saturated is raised when the load generator, not the server, may have
	// been the limit; SaturationReason says which test fired.
	Saturated        bool   `json:"saturated"`
	SaturationReason string `json:"saturation_reason,omitempty"`

	ServerCPUs string   `json:"server_cpus,omitempty"` // taskset list the server ran on
	Notes      []string `json:"notes,omitempty"`       // caveats and per-repetition failures

	// LOverC is the measured concurrency L ÷ the offered concurrency c
	// (connections × pipeline depth) of a closed-loop row; null elsewhere.
	// Below WindowLOverCMin the window was too short for the latency.
	LOverC *Stat `json:"l_over_c,omitempty"`
	// Flags are the gate's findings (gate.go): FlagErrors, FlagWindow,
	// FlagSaturated. A flagged row is shown but never decides a verdict.
	Flags []string `json:"flags,omitempty"`

	Reps []Rep `json:"reps"`
	// Prevented says what a machine limit stopped this row from measuring
	// (the nofile cap, for instance); the row then has no repetitions.
	Prevented string `json:"prevented,omitempty"`
	// NotInstalled says what a real stack needs that this machine lacks
	// (procman.ErrNotInstalled); the row then has no repetitions. Such rows
	// are kept, never silently dropped, and read "not installed".
	NotInstalled string `json:"not_installed,omitempty"`
}

// ServerUse is the server tree's resource use, summarised over repetitions.
type ServerUse struct {
	RSSPeakBytes    Stat   `json:"rss_peak_bytes"`
	RSSBeforeBytes  Stat   `json:"rss_before_bytes"`
	ThreadsPeak     Stat   `json:"threads_peak"`
	FDsPeak         Stat   `json:"fds_peak"`
	Processes       Stat   `json:"processes"`
	CPUUserS        Stat   `json:"cpu_user_s"` // during the measurement
	CPUSysS         Stat   `json:"cpu_sys_s"`
	CPUUtil         Stat   `json:"cpu_util"` // (user+sys) ÷ wall: 1.0 = one core busy
	CtxVolPerReq    Stat   `json:"ctx_voluntary_per_request"`
	CtxInvolPerReq  Stat   `json:"ctx_involuntary_per_request"`
	CPUUsPerRequest Stat   `json:"cpu_us_per_request"`
	Samples         int    `json:"samples"` // /stats or /proc samples taken, all repetitions
	Source          string `json:"source"`  // "proc" or "stats"
}

// Canary summarises the probe.
type Canary struct {
	Rate  float64 `json:"rate"`
	P50Ms Stat    `json:"p50_ms"`
	P99Ms Stat    `json:"p99_ms"`
	MaxMs Stat    `json:"max_ms"`
	// Errors counts failed probes (a probe that timed out is a failure too).
	Errors Stat `json:"errors"`
	// Unanswered counts probes due but unanswered when the measurement
	// ended; they are in the percentiles with the time they had waited.
	Unanswered Stat `json:"unanswered"`
}

// Idle summarises an idle-connection point.
type Idle struct {
	Wanted          int  `json:"wanted"`
	Held            Stat `json:"held"`               // connections actually held open
	RSSPerConnBytes Stat `json:"rss_per_conn_bytes"` // (RSS with them − RSS before) ÷ held
	ThreadsHeld     Stat `json:"threads_held"`       // threads while holding them
	ProbeP50Ms      Stat `json:"probe_p50_ms"`
	ProbeP99Ms      Stat `json:"probe_p99_ms"`
	OpenS           Stat `json:"open_s"` // time to open and prime them all
}

// LoadgenUse is the load generator's own CPU use.
type LoadgenUse struct {
	CPUUtil Stat `json:"cpu_util"` // of its cores: 1.0 = every core it may use busy
	Cores   int  `json:"cores"`
	// CPUUsPerRequest: the load generator's own CPU (getrusage over the
	// window, canary included) per request, in µs; beside the server's
	// server.cpu_us_per_request it says which side paid more per request.
	CPUUsPerRequest Stat `json:"cpu_us_per_request"`
	// IOBackend is the engine's I/O backend on this row's repetitions
	// ("epoll", "io_uring"; several joined with "+" if they differed; ""
	// where the engine did not say).
	IOBackend string `json:"io_backend,omitempty"`
}

// Rep is one repetition, raw. Engine is the load engine's full result.
type Rep struct {
	RPS      float64 `json:"rps"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	// OK: answers with a 2xx or 3xx status (what RPS counts); ErrorRate:
	// Errors ÷ Requests; Unfinished: requests still unanswered when the
	// window ended, recorded in the histograms as lower bounds.
	OK         int64   `json:"ok"`
	ErrorRate  float64 `json:"error_rate"`
	Unfinished int64   `json:"unfinished"`
	// LoadgenCPUUsPerReq: the load generator's CPU µs per request in this
	// repetition (0 when unknown).
	LoadgenCPUUsPerReq float64 `json:"loadgen_cpu_us_per_request,omitempty"`
	// IOBackend: the load engine's I/O backend in this repetition (its
	// Result.IOBackend); "" when the engine did not report one.
	IOBackend  string           `json:"io_backend,omitempty"`
	ErrorsBy   map[string]int64 `json:"errors_by_class,omitempty"`
	Status     map[string]int64 `json:"status,omitempty"`
	P50Ms      float64          `json:"p50_ms"`
	P90Ms      float64          `json:"p90_ms"`
	P99Ms      float64          `json:"p99_ms"`
	MaxMs      float64          `json:"max_ms"`
	MeanMs     float64          `json:"mean_ms"`
	Server     ServerSample     `json:"server"`
	LoadgenCPU float64          `json:"loadgen_cpu_util"`
	Canary     json.RawMessage  `json:"canary,omitempty"` // the canary's engine result
	Idle       *IdleRep         `json:"idle,omitempty"`
	Engine     json.RawMessage  `json:"engine,omitempty"` // the load's engine result
	// Replicas: a distributed run (loadgen/swarm, owner H) lists each load
	// generator's own share; the counts above are their exact sums and the
	// percentiles come from their merged histogram. Absent for a local run.
	Replicas []ReplicaRep `json:"replicas,omitempty"`
}

// ReplicaRep is one load generator's share of a distributed repetition
// (loadgen/swarm). LoadgenCPU is that replica's CPU ÷ (window × its
// GOMAXPROCS), as Rep.LoadgenCPU is for a local run.
type ReplicaRep struct {
	Agent      string  `json:"agent"`
	Conns      int     `json:"conns"`
	Requests   int64   `json:"requests"`
	OK         int64   `json:"ok"`
	Errors     int64   `json:"errors"`
	RPS        float64 `json:"rps"`
	P99Ms      float64 `json:"p99_ms"`
	LoadgenCPU float64 `json:"loadgen_cpu_util"`
	CPUS       float64 `json:"loadgen_cpu_s"`
	DurationS  float64 `json:"duration_s"`
}

// ServerSample is the server's use during one repetition.
type ServerSample struct {
	RSSBefore      int64   `json:"rss_before"`
	RSSPeak        int64   `json:"rss_peak"`
	ThreadsPeak    int     `json:"threads_peak"`
	FDsPeak        int     `json:"fds_peak"`
	Processes      int     `json:"processes"`
	CPUUserS       float64 `json:"cpu_user_s"`
	CPUSysS        float64 `json:"cpu_sys_s"`
	CtxVoluntary   int64   `json:"ctx_voluntary"`
	CtxInvoluntary int64   `json:"ctx_involuntary"`
	WallS          float64 `json:"wall_s"`
	Samples        int     `json:"samples"`
	GOMAXPROCS     int     `json:"gomaxprocs"`
}

// IdleRep is one repetition of an idle-connection point.
type IdleRep struct {
	// Held: connections still open at the end of the hold (after the
	// probe); ClosedByServer: those the server answered and then closed
	// meanwhile (an idle timeout, or reclaiming idle keep-alive
	// connections past a cap such as nginx's worker_connections).
	Held           int     `json:"held"`
	ClosedByServer int     `json:"closed_by_server,omitempty"`
	RSSBefore      int64   `json:"rss_before"`
	RSSHeld        int64   `json:"rss_held"`
	ThreadsHeld    int     `json:"threads_held"`
	ProbeP50Ms     float64 `json:"probe_p50_ms"`
	ProbeP99Ms     float64 `json:"probe_p99_ms"`
	OpenS          float64 `json:"open_s"`
	Error          string  `json:"error,omitempty"`
}

// Read loads and checks a results.json.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Schema != SchemaVersion {
		return nil, fmt.Errorf("%s: schema %q, want %q", path, f.Schema, SchemaVersion)
	}
	return &f, nil
}

// WriteAtomic writes v as indented JSON to path through a temporary file in
// the same folder and a rename, so that a reader never sees a partial file.
func WriteAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Row returns the row of scenario s for config and point label, or nil.
func (f *File) Row(scenario, config, label string) *Row {
	for i := range f.Scenarios {
		if f.Scenarios[i].Name != scenario {
			continue
		}
		for j := range f.Scenarios[i].Rows {
			r := &f.Scenarios[i].Rows[j]
			if r.Config == config && r.Point.Label == label {
				return r
			}
		}
	}
	return nil
}
