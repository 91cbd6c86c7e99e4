package conformance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/contract"
	"github.com/serverlab/lab/internal/labtest"
	"github.com/serverlab/lab/internal/procman"
	"github.com/serverlab/lab/loadgen/catalog"
)

// The real stacks (stacks/, catalog.Stacks) against the same table: the
// 200-path cases must give the same bodies as the Go servers, the /cpu
// digests included, and fan-out must take about the sum (seq) or the max
// (par) of its waits. Their 400/404/405 answers are compared with a Go
// server's where the framework lets the app write them. The protocol cases
// (garbage, no Host, 431, 413, pipelining, HTTP/1.0, …) get "the
// framework's own answer": logged, never compared. A stack that is not
// installed is skipped, saying what is missing.

// stackCases are the 200-path cases of the table, by name.
var stackCases = []string{"plaintext", "json", "io", "io bounds ok", "cpu digest", "cpu zero"}

// stackDependencyTimeout is the stacks' LAB_DEPENDENCY_TIMEOUT in these
// tests: short, so that the 504 case takes seconds, not 15.
const stackDependencyTimeout = 2 * time.Second

// stackHandshake is the dependency's emulated handshake per new connection
// in these tests: conn=new calls must each pay it.
const stackHandshake = 30 * time.Millisecond

func caseByName(name string) tcase {
	for _, c := range cases {
		if c.name == name {
			return c
		}
	}
	panic("no case " + name)
}

// target is the request target of a one-request GET case.
func target(c tcase) string {
	line, _, _ := strings.Cut(c.writes[0], " HTTP/1.1")
	return strings.TrimPrefix(line, "GET ")
}

func TestStackCatalog(t *testing.T) {
	root, err := labtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, c := range catalog.Configs {
		seen[c.Name]++
	}
	for _, s := range catalog.Stacks {
		if seen[s.Name] != 1 {
			t.Errorf("%s: %d configurations have this name, want 1 (Configs holds Stacks)", s.Name, seen[s.Name])
		}
		if c, ok := catalog.ConfigByName(s.Name); !ok || c.Kind != catalog.KindStack {
			t.Errorf("%s: ConfigByName does not find the stack", s.Name)
		}
		if s.Kind != catalog.KindStack || len(s.Command) == 0 || len(s.Requires) == 0 || s.Model == "" || s.Twin == "" {
			t.Errorf("%s: incomplete: %+v", s.Name, s)
		}
		if s.TwinOf != "" {
			if tw, ok := catalog.ConfigByName(s.TwinOf); !ok || tw.Kind != catalog.KindTwin {
				t.Errorf("%s: TwinOf %q is no twin configuration", s.Name, s.TwinOf)
			}
		}
		if fi, err := os.Stat(filepath.Join(root, s.StackDir)); err != nil || !fi.IsDir() {
			t.Errorf("%s: StackDir %q: %v", s.Name, s.StackDir, err)
		}
		for _, a := range s.Command {
			if strings.Contains(a, "python3") && a != procman.Python {
				t.Errorf("%s: runs %q; the stacks run on %s ({python})", s.Name, a, procman.Python)
			}
		}
	}
}

func TestStacksConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the real stacks take a minute to start one by one")
	}
	root, err := labtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	// The Go reference: also the stacks' fan-out dependency, charging an
	// emulated handshake to each new connection so conn=new can be seen.
	dep := labtest.Start(t, labtest.Binary(t, "servers/blocking"), "",
		"-emulate-connect-ms", fmt.Sprint(stackHandshake.Milliseconds()))
	for _, cfg := range catalog.Stacks {
		cfg.Requires = rooted(root, cfg.Requires)
		t.Run(cfg.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			p, err := procman.Start(ctx, procman.Spec{Config: cfg, Root: root, Dependency: dep.Addr,
				Env: []string{fmt.Sprintf("LAB_DEPENDENCY_TIMEOUT=%g", stackDependencyTimeout.Seconds())}})
			if errors.Is(err, procman.ErrNotInstalled) {
				t.Skipf("%v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := p.Stop(10 * time.Second); err != nil {
					t.Errorf("stop: %v", err)
				}
			}()
			t.Run("group", func(t *testing.T) { checkStack(t, cfg, p.Addr, dep.Addr) })
		})
	}
}

// rooted makes relative Requires paths (the compiled servlet) absolute
// under the repository root: the test runs in its package's folder.
func rooted(root string, requires []string) []string {
	out := make([]string, len(requires))
	for i, r := range requires {
		if strings.Contains(r, "/") && !strings.Contains(r, ":") && !filepath.IsAbs(r) {
			r = filepath.Join(root, r)
		}
		out[i] = r
	}
	return out
}

// checkStack runs the cases against one started stack; its subtests run in
// parallel and end before the stack is stopped.
func checkStack(t *testing.T, cfg catalog.Config, addr, ref string) {
	names := stackCases
	if len(cfg.Routes) > 0 { // nginx: /plaintext only
		names = []string{"plaintext"}
	}
	for _, name := range names {
		c := caseByName(name)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := c.wants[0]
			status, ctype, body := fetch(t, addr, target(c))
			if status != w.status || body != w.body {
				t.Errorf("GET %s: %d %q, want %d %q", target(c), status, body, w.status, w.body)
			}
			if want := w.header["Content-Type"]; want != "" && !sameMediaType(ctype, want) {
				t.Errorf("GET %s: Content-Type %q, want %q", target(c), ctype, want)
			}
		})
	}
	if len(cfg.Routes) > 0 {
		t.Run("protocol", func(t *testing.T) { t.Parallel(); logProtocol(t, addr) })
		return
	}
	// Refusals the app writes itself: byte-identical to the Go server's.
	var refusals []string
	for _, c := range cases {
		if strings.HasPrefix(c.name, "400 /") || c.name == "404" {
			refusals = append(refusals, target(c))
		}
	}
	refusals = append(refusals, "/fanout?calls=2&ms=1,2,3&mode=par", "/fanout?ms=1,x&mode=par", "/fanout?calls=1&ms=1&mode=seq&conn=old")
	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		for _, tg := range refusals {
			gs, _, gb := fetch(t, ref, tg)
			s, ct, b := fetch(t, addr, tg)
			if s != gs || b != gb || !sameMediaType(ct, contract.ContentTypeJSON) {
				t.Errorf("GET %s: %d %s %q, Go answers %d %q", tg, s, ct, b, gs, gb)
			}
		}
	})
	t.Run("405", func(t *testing.T) {
		t.Parallel()
		resp, err := http.Post("http://"+addr+"/json", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != contract.AllowedMethods || string(b) != string(contract.ErrMethod.AppendBody(nil)) {
			t.Errorf("POST /json: %d Allow %q %q", resp.StatusCode, resp.Header.Get("Allow"), b)
		}
	})
	t.Run("fanout", func(t *testing.T) { t.Parallel(); checkFanout(t, addr) })
	t.Run("fanout waits", func(t *testing.T) { t.Parallel(); checkFanoutWaits(t, addr) })
	t.Run("fanout 504", func(t *testing.T) {
		t.Parallel()
		ms := int((stackDependencyTimeout + 500*time.Millisecond).Milliseconds())
		tg := fmt.Sprintf("/fanout?calls=1&ms=%d&mode=seq", ms)
		if s, _, b := fetch(t, addr, tg); s != 504 || b != string(contract.ErrDependencyTimeout.AppendBody(nil)) {
			t.Errorf("GET %s with a %v dependency timeout: %d %q, want 504", tg, stackDependencyTimeout, s, b)
		}
	})
	t.Run("protocol", func(t *testing.T) { t.Parallel(); logProtocol(t, addr) })
}

// checkFanoutWaits: per-call waits (ms=a,b,c) and fresh connections (conn=new).
func checkFanoutWaits(t *testing.T, addr string) {
	type fan struct {
		Calls     int     `json:"calls"`
		Mode      string  `json:"mode"`
		ElapsedMs float64 `json:"elapsed_ms"`
	}
	var seq, par, fresh fan
	getJSON(t, "http://"+addr+"/fanout?ms=200,200,400&mode=seq", &seq)
	getJSON(t, "http://"+addr+"/fanout?ms=200,200,400&mode=par", &par)
	getJSON(t, "http://"+addr+"/fanout?calls=3&ms=50&mode=par&conn=new", &fresh)
	if seq.Calls != 3 || par.Calls != 3 || fresh.Calls != 3 {
		t.Errorf("fanout bodies: %+v %+v %+v", seq, par, fresh)
	}
	if seq.ElapsedMs < 800 {
		t.Errorf("seq of 200+200+400 ms took %.1f ms, less than the sum", seq.ElapsedMs)
	}
	// A correctness bound with 200 ms of slack (new connections pay the
	// emulated handshake), not a speed target.
	if par.ElapsedMs < 400 || par.ElapsedMs >= 600 {
		t.Errorf("par of 200, 200 and 400 ms took %.1f ms, want about the max (400 ms), well under the sum (800 ms)", par.ElapsedMs)
	}
	// conn=new: every call dials, so each pays the dependency's handshake.
	var cold fan
	getJSON(t, "http://"+addr+"/fanout?calls=3&ms=0&mode=seq&conn=new", &cold)
	if min := 3 * float64(stackHandshake.Milliseconds()); cold.ElapsedMs < min {
		t.Errorf("3 seq calls with conn=new took %.1f ms, less than 3 emulated handshakes (%.0f ms): connections were reused", cold.ElapsedMs, min)
	}
}

// fetch GETs target on a fresh connection: status, Content-Type and body.
func fetch(t *testing.T, addr, target string) (int, string, string) {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + target)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", target, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// sameMediaType compares Content-Types as media types and parameters:
// Tomcat writes "text/plain;charset=utf-8" for "text/plain; charset=utf-8".
func sameMediaType(got, want string) bool {
	gt, gp, err1 := mime.ParseMediaType(got)
	wt, wp, err2 := mime.ParseMediaType(want)
	return err1 == nil && err2 == nil && gt == wt && strings.EqualFold(gp["charset"], wp["charset"])
}

// logProtocol logs what the framework answers to the table's protocol
// cases: its own answer, not compared with the Go servers'.
func logProtocol(t *testing.T, addr string) {
	for _, c := range cases {
		if strings.HasPrefix(c.name, "400 /") || c.name == "404" || c.name == "405 with Allow" || contains(stackCases, c.name) {
			continue
		}
		t.Logf("framework's own answer to %q: %s", c.name, rawAnswer(addr, c))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// rawAnswer sends a case's bytes and describes the statuses that come back
// and whether the connection was closed; it never fails the test.
func rawAnswer(addr string, c tcase) string {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "dial: " + err.Error()
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	for i, w := range c.writes {
		if i > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := io.WriteString(conn, w); err != nil {
			return "write: " + err.Error()
		}
	}
	br := bufio.NewReader(conn)
	var got []string
	for _, w := range c.wants {
		method := w.method
		if method == "" {
			method = "GET"
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			got = append(got, "no answer ("+err.Error()+")")
			break
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got = append(got, resp.Status)
	}
	closed := "kept open"
	if isClosed(conn, br) {
		closed = "closed"
	}
	want := make([]string, len(c.wants))
	for i, w := range c.wants {
		want[i] = fmt.Sprint(w.status)
	}
	return fmt.Sprintf("%s, connection %s (Go servers: %s)", strings.Join(got, ", "), closed, strings.Join(want, ", "))
}
