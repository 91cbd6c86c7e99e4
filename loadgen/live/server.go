// Package live is `loadgen live`: one local web page that runs the lab's
// configurations side by side while a room watches. It starts and stops
// the configurations (and the fan-out dependency) through the lab's process
// manager, drives each with the load engine, and streams per-second
// numbers to the page with Server-Sent Events. The page (page/) is
// embedded, draws its own SVG charts and loads nothing from the network.
//
// The page starts processes, so the server treats it as a control plane:
// it binds loopback, requires a random token (printed in the URL), refuses
// a foreign Host or Origin, caps connections and run time, and stops
// everything when its context ends or when no page has been connected for
// Options.IdleExit.
//
// Who owns what: Server owns the session, its processes and goroutines;
// Run returns only after all of them have stopped.
package live

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/engine"
)

//go:embed page
var pageFS embed.FS

// Options configure a Server. The zero value of each field has a default.
type Options struct {
	Addr       string            // listen address; default 127.0.0.1:8099 (port 0 picks one)
	Targets    map[string]string // external mode: configuration name → base URL
	Launcher   Launcher          // starts configurations; default ProcmanLauncher{BinDir}
	BinDir     string            // where the twins' binaries are; default bin
	ServerCPUs string            // taskset list for the servers ("" = no pinning)
	LoadCPUs   string            // taskset list for the dependency ("" = no pinning)
	AllCPUs    string            // taskset list for demos that give a server every CPU
	MaxConns   int               // connections across all panes; default the nofile cap less a reserve
	MaxRun     time.Duration     // longest any load runs without a new command; default 30 min
	IdleExit   time.Duration     // stop after this long with no page connected; default 30 s
	Token      string            // default random
	Log        io.Writer         // progress lines; nil for none
	// DemoSeconds is a demo's default length; default 20 s (the page may
	// ask for 4 to 120).
	DemoSeconds int
}

// Server serves the page and runs the session behind it.
type Server struct {
	o     Options
	ln    net.Listener
	token string
	hosts []string // acceptable Host headers
	sess  *session
	mux   *http.ServeMux
	cfgs  []catalog.Config

	ctx    context.Context // the session's life: ends when Run stops
	cancel context.CancelFunc

	demoMu     sync.Mutex
	demoCancel context.CancelFunc
	demoDone   chan struct{}
}

// New listens on o.Addr. Call Run to serve.
func New(o Options) (*Server, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8099"
	}
	if o.BinDir == "" {
		o.BinDir = "bin"
	}
	if o.Launcher == nil {
		o.Launcher = ProcmanLauncher{BinDir: o.BinDir}
	}
	if o.MaxConns <= 0 {
		o.MaxConns = max(engine.NofileCap()-256, 1)
	}
	if o.MaxRun <= 0 {
		o.MaxRun = 30 * time.Minute
	}
	if o.IdleExit <= 0 {
		o.IdleExit = 30 * time.Second
	}
	if o.DemoSeconds <= 0 {
		o.DemoSeconds = 20
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("-addr %q: %v", o.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("-addr %q: live mode starts processes and binds loopback only", o.Addr)
	}
	if o.Token == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		o.Token = hex.EncodeToString(b)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s := &Server{o: o, ln: ln, token: o.Token}
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
		s.hosts = append(s.hosts, fmt.Sprintf("%s:%d", h, port))
	}
	s.cfgs = availableConfigs(o.Targets)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.sess = &session{o: &s.o, start: time.Now(), hub: newHub(), lookup: s.lookup, ctx: s.ctx}
	s.routes()
	return s, nil
}

// URL is the page's address with its token, to print and open.
func (s *Server) URL() string {
	return fmt.Sprintf("http://%s/?token=%s", s.hosts[0], s.token)
}

// Token is the session's token.
func (s *Server) Token() string { return s.token }

func (s *Server) lookup(name string) (catalog.Config, bool) {
	for _, c := range s.cfgs {
		if c.Name == name {
			return c, true
		}
	}
	return catalog.Config{}, false
}

// availableConfigs lists the twins, and the real stacks whose requirements
// are installed; in external mode only the targets given.
func availableConfigs(targets map[string]string) []catalog.Config {
	var out []catalog.Config
	for _, c := range allConfigs() {
		if len(targets) > 0 {
			if _, ok := targets[c.Name]; !ok {
				continue
			}
		} else if c.Kind == catalog.KindStack && !installed(c) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Run serves until ctx ends or no page has been connected for IdleExit
// (before the first page connects: for firstPageWait), then stops every process it started. The error names any process that
// was left (and killed), or why serving failed.
func (s *Server) Run(parent context.Context) error {
	ctx, cancel := s.ctx, s.cancel
	defer context.AfterFunc(parent, cancel)()
	defer cancel()
	srv := &http.Server{Handler: s.guard(s.mux), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(s.ln) }()

	var why error
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			why = nil
			break loop
		case err := <-serveErr:
			why = err
			break loop
		case <-tick.C:
			if idle, ever := s.sess.hub.idleFor(); idle >= s.o.IdleExit && (ever || idle >= max(s.o.IdleExit, firstPageWait)) {
				s.sess.logf("no page connected for %s: stopping", idle.Round(time.Second))
				break loop
			}
		}
	}
	cancel()
	s.cancelDemo()
	stopErr := s.sess.close()
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	srv.Shutdown(sctx)
	scancel()
	s.sess.hub.closeAll()
	if stopErr != nil {
		return stopErr
	}
	if why != nil && !errors.Is(why, http.ErrServerClosed) {
		return why
	}
	return nil
}

// guard refuses requests that are not from the page: a Host other than
// ours (DNS rebinding), an Origin other than ours (another site's script),
// a cross-site fetch, or a missing or wrong token. State changes (POST)
// must carry the token in the X-Live-Token header, which a plain HTML form
// or a simple cross-origin request cannot set.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(s.hosts, r.Host) {
			httpError(w, http.StatusForbidden, "refused: Host %q is not this page's", r.Host)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !slices.Contains(s.hosts, strings.TrimPrefix(o, "http://")) {
			httpError(w, http.StatusForbidden, "refused: Origin %q is not this page's", o)
			return
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			httpError(w, http.StatusForbidden, "refused: cross-site request")
			return
		}
		tok := r.Header.Get("X-Live-Token")
		fromQuery := false
		if tok == "" && r.Method == http.MethodGet {
			if tok = r.URL.Query().Get("token"); tok != "" {
				fromQuery = true
			} else if c, err := r.Cookie(cookieName); err == nil {
				tok = c.Value // the page's own assets, after the first load
			}
		}
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
			httpError(w, http.StatusForbidden, "refused: missing or wrong token (open the URL printed in the terminal)")
			return
		}
		if fromQuery {
			// SameSite=Strict: no other site's page can send it along.
			http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'")
		next.ServeHTTP(w, r)
	})
}

// firstPageWait is how long Run waits for the first page to connect (the
// facilitator copies the URL into a browser) before the idle rule applies.
// Nothing is started before a page asks for it.
const firstPageWait = 5 * time.Minute

// cookieName carries the token for the page's own GETs (app.js, app.css)
// after the page was opened with ?token=.
const cookieName = "loadgen_live_token"

func httpError(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf(format, args...)})
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	static, _ := fs.Sub(pageFS, "page")
	files := http.FileServerFS(static)
	s.mux.Handle("GET /", files)
	s.mux.HandleFunc("GET /events", s.events)
	s.mux.HandleFunc("GET /api/info", s.info)
	s.mux.HandleFunc("GET /api/session.json", s.exportJSON)
	s.mux.HandleFunc("POST /api/panes", s.postPanes)
	s.mux.HandleFunc("POST /api/stop", s.postStop)
	s.mux.HandleFunc("POST /api/demo", s.postDemo)
}

// configInfo is a configuration as the page lists it.
type configInfo struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Model    string   `json:"model"`
	Style    string   `json:"style"`
	Twin     string   `json:"twin"`
	Handler  bool     `json:"handler"` // has the handler style knob
	Routes   []string `json:"routes"`  // a stack that serves only some routes
	External bool     `json:"external"`
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	var cfgs []configInfo
	for _, c := range s.cfgs {
		_, ext := s.o.Targets[c.Name]
		cfgs = append(cfgs, configInfo{Name: c.Name, Kind: c.Kind, Model: c.Model, Style: c.Style, Twin: c.Twin,
			Handler: c.Binary == "eventloop" && c.Kind == catalog.KindTwin && !ext, Routes: c.Routes, External: ext})
	}
	writeJSON(w, map[string]any{
		"configs": cfgs, "routes": routes, "handlers": handlerStyles, "demos": demoInfos(),
		"max_conns": s.o.MaxConns, "max_run_s": s.o.MaxRun.Seconds(), "demo_seconds": s.o.DemoSeconds,
		"canary_rate": catalog.CanaryRate,
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// readJSON decodes a small JSON body into v.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		httpError(w, http.StatusUnsupportedMediaType, "want Content-Type: application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		httpError(w, http.StatusBadRequest, "bad JSON: %v", err)
		return false
	}
	return true
}

func (s *Server) postPanes(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Panes []PaneSettings `json:"panes"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	s.cancelDemo()
	if err := s.sess.apply(body.Panes); err != nil {
		httpError(w, http.StatusBadRequest, "%v", err)
		return
	}
	writeJSON(w, s.sess.state())
}

func (s *Server) postStop(w http.ResponseWriter, r *http.Request) {
	s.cancelDemo()
	s.sess.stopLoads(true)
	writeJSON(w, s.sess.state())
}

func (s *Server) exportJSON(w http.ResponseWriter, r *http.Request) {
	b, err := s.sess.export()
	if err != nil {
		httpError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="live-session.json"`)
	w.Write(b)
}

// events streams the session to one page: the state and the recent points
// first, then every change.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		httpError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	ch := s.sess.hub.add()
	defer s.sess.hub.remove(ch)
	write := func(b []byte) bool {
		if _, err := w.Write(b); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if !write(sse("state", s.sess.state())) {
		return
	}
	s.sess.mu.Lock()
	pts := s.sess.points
	if n := len(pts); n > 600 {
		pts = pts[n-600:]
	}
	pts = append([]Point(nil), pts...)
	s.sess.mu.Unlock()
	if !write(sse("backlog", pts)) {
		return
	}
	ping := time.NewTicker(10 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case b, ok := <-ch:
			if !ok || !write(b) {
				return
			}
		case <-ping.C:
			if !write([]byte(": ping\n\n")) {
				return
			}
		}
	}
}

func sse(event string, v any) []byte {
	b, _ := json.Marshal(v)
	return []byte("event: " + event + "\ndata: " + string(b) + "\n\n")
}

// hub fans events out to the connected pages and remembers when the last
// one left.
type hub struct {
	mu       sync.Mutex
	clients  map[chan []byte]struct{}
	lastSeen time.Time
	ever     bool // a page has connected
}

func newHub() *hub { return &hub{clients: map[chan []byte]struct{}{}, lastSeen: time.Now()} }

func (h *hub) add() chan []byte {
	ch := make(chan []byte, 512)
	h.mu.Lock()
	h.clients[ch] = struct{}{}
	h.ever = true
	h.mu.Unlock()
	return ch
}

func (h *hub) remove(ch chan []byte) {
	h.mu.Lock()
	if _, ok := h.clients[ch]; ok {
		delete(h.clients, ch)
		close(ch)
	}
	h.lastSeen = time.Now()
	h.mu.Unlock()
}

func (h *hub) closeAll() {
	h.mu.Lock()
	for ch := range h.clients {
		delete(h.clients, ch)
		close(ch)
	}
	h.mu.Unlock()
}

// send queues an event for every page; a page too slow to keep up loses it.
func (h *hub) send(event string, v any) {
	b := sse(event, v)
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.clients {
		select {
		case ch <- b:
		default:
		}
	}
}

// idleFor is how long no page has been connected (0 while one is), and
// whether one ever was.
func (h *hub) idleFor() (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clients) > 0 {
		return 0, true
	}
	return time.Since(h.lastSeen), h.ever
}
