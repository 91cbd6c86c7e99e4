package live

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
)

// Routes the page offers.
const (
	RoutePlaintext = "plaintext"
	RouteIO        = "io"
	RouteCPU       = "cpu"
	RouteFanSeq    = "fanout-seq"
	RouteFanPar    = "fanout-par"
)

var routes = []string{RoutePlaintext, RouteIO, RouteCPU, RouteFanSeq, RouteFanPar}

// Handler styles of the event-loop twin.
var handlerStyles = []string{"async", "pool", "inline"}

// Limits on what a page may ask for.
const (
	MaxPanes   = 4
	maxWaitMs  = 5000
	maxWork    = 200_000
	maxCalls   = 10
	maxRate    = 200_000
	canaryConn = 2 // connections of each pane's canary
)

// PaneSettings are one pane's knobs, as the page sends them.
type PaneSettings struct {
	Config  string  `json:"config"`            // a catalog configuration name
	Route   string  `json:"route"`             // one of routes
	Ms      int     `json:"ms"`                // io and fanout: the wait per call
	Work    int     `json:"work"`              // cpu: SHA-256 rounds
	Calls   int     `json:"calls"`             // fanout: dependency calls
	Conns   int     `json:"conns"`             // closed loop: connections; open loop: the cap
	Rate    float64 `json:"rate"`              // > 0: open loop at this many requests/s
	Handler string  `json:"handler,omitempty"` // eventloop twins: async, pool or inline ("" = the configuration's own)
	Canary  bool    `json:"canary"`            // run a 50/s /plaintext probe on its own connections
	CPUs    string  `json:"cpus,omitempty"`    // "" the server CPUs, "all" every CPU (demos)
	Load    bool    `json:"load"`              // run the load (false: the server idles)
}

// target is the request path and query the settings ask for.
func (s PaneSettings) target() string {
	switch s.Route {
	case RouteIO:
		return "/io?ms=" + strconv.Itoa(s.Ms)
	case RouteCPU:
		return "/cpu?work=" + strconv.Itoa(s.Work)
	case RouteFanSeq, RouteFanPar:
		mode := "seq"
		if s.Route == RouteFanPar {
			mode = "par"
		}
		q := url.Values{"calls": {strconv.Itoa(s.Calls)}, "ms": {strconv.Itoa(s.Ms)}, "mode": {mode}}
		return "/fanout?" + q.Encode()
	}
	return "/plaintext"
}

// waitMs is the wait one request holds a server slot for (Little's law),
// 0 where the route has none.
func (s PaneSettings) waitMs() int {
	switch s.Route {
	case RouteIO, RouteFanPar:
		return s.Ms
	case RouteFanSeq:
		return s.Ms * s.Calls
	}
	return 0
}

// normalize fills defaults and checks bounds.
func (s *PaneSettings) normalize(lookup func(string) (catalog.Config, bool)) error {
	cfg, ok := lookup(s.Config)
	if !ok {
		return fmt.Errorf("unknown configuration %q", s.Config)
	}
	if s.Route == "" {
		s.Route = RoutePlaintext
	}
	if !slices.Contains(routes, s.Route) {
		return fmt.Errorf("route %q: want one of %v", s.Route, routes)
	}
	if s.Ms == 0 {
		s.Ms = 50
	}
	if s.Work == 0 {
		s.Work = catalog.CPUWork
	}
	if s.Calls == 0 {
		s.Calls = 3
	}
	if s.Conns == 0 {
		s.Conns = 10
	}
	switch {
	case s.Ms < 0 || s.Ms > maxWaitMs:
		return fmt.Errorf("ms must be in [0, %d]", maxWaitMs)
	case s.Work < 0 || s.Work > maxWork:
		return fmt.Errorf("work must be in [0, %d]", maxWork)
	case s.Calls < 1 || s.Calls > maxCalls:
		return fmt.Errorf("calls must be in [1, %d]", maxCalls)
	case s.Conns < 1:
		return fmt.Errorf("conns must be at least 1")
	case s.Rate < 0 || s.Rate > maxRate:
		return fmt.Errorf("rate must be in [0, %d]", maxRate)
	}
	if s.Handler != "" {
		if cfg.Binary != "eventloop" || cfg.Kind != catalog.KindTwin {
			return fmt.Errorf("%s has no handler style knob (only the event-loop twins do)", s.Config)
		}
		if !slices.Contains(handlerStyles, s.Handler) {
			return fmt.Errorf("handler %q: want one of %v", s.Handler, handlerStyles)
		}
	}
	if s.CPUs != "" && s.CPUs != "all" {
		return fmt.Errorf(`cpus must be "" or "all"`)
	}
	if path, _, _ := strings.Cut(s.target(), "?"); len(cfg.Routes) > 0 && !slices.Contains(cfg.Routes, path) {
		return fmt.Errorf("%s serves only %v", s.Config, cfg.Routes)
	}
	return nil
}

// effective is cfg with the handler knob applied: the configuration that
// actually runs.
func effective(cfg catalog.Config, handler string) catalog.Config {
	if handler == "" {
		return cfg
	}
	args := slices.Clone(cfg.Args)
	if i := slices.Index(args, "-handler"); i >= 0 && i+1 < len(args) {
		if args[i+1] == handler {
			return cfg
		}
		args[i+1] = handler
	} else {
		args = append(args, "-handler", handler)
	}
	cfg.Args = args
	cfg.Name += "+" + handler
	cfg.Style = handler
	return cfg
}

// concurrencyCap is how many requests cfg (already effective) serves at
// once, for Little's law: 0 means no cap below the client's.
func concurrencyCap(cfg catalog.Config) int {
	if cfg.Binary == "eventloop" && cfg.Kind == catalog.KindTwin {
		style, loops, pool := "async", 1, 40
		for i := 0; i+1 < len(cfg.Args); i++ {
			switch cfg.Args[i] {
			case "-handler":
				style = cfg.Args[i+1]
			case "-loops":
				loops, _ = strconv.Atoi(cfg.Args[i+1])
			case "-pool-size":
				pool, _ = strconv.Atoi(cfg.Args[i+1])
			}
		}
		switch style {
		case "inline":
			return loops
		case "pool":
			return pool
		}
		return 0
	}
	if cfg.Limit != catalog.LimitNone {
		return cfg.LimitN
	}
	return 0
}

// littleBound is the throughput Little's law allows (requests/s): the
// requests in flight divided by the time each holds its slot. ok is false
// where no bound applies (no wait on the route).
func littleBound(s PaneSettings, cfg catalog.Config) (float64, bool) {
	w := s.waitMs()
	if w <= 0 {
		return 0, false
	}
	inflight := s.Conns
	if c := concurrencyCap(cfg); c > 0 {
		inflight = min(inflight, c)
	}
	b := float64(inflight) / (float64(w) / 1000)
	if s.Rate > 0 {
		b = min(b, s.Rate)
	}
	return b, true
}
