// Package procstat reads the resource use of a process tree from /proc.
// It backs every server's /stats and the suite's sampling. Functions here
// hold no state and are safe for concurrent use.
package procstat

import (
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// Snapshot is the resource use of a process tree, summed over its processes.
// It is the /stats body of every server (encoded with encoding/json).
type Snapshot struct {
	Model          string  `json:"model"`           // server model and style, e.g. "blocking/os"
	PIDs           []int   `json:"pids"`            // root first, then descendants
	Processes      int     `json:"processes"`       // len(PIDs)
	RSSBytes       int64   `json:"rss_bytes"`       // sum of resident set sizes
	Threads        int     `json:"threads"`         // sum of OS threads
	CPUUserS       float64 `json:"cpu_user_s"`      // user CPU seconds since start
	CPUSysS        float64 `json:"cpu_sys_s"`       // system CPU seconds since start
	CtxVoluntary   int64   `json:"ctx_voluntary"`   // voluntary context switches of live threads
	CtxInvoluntary int64   `json:"ctx_involuntary"` // involuntary context switches of live threads
	OpenFDs        int     `json:"open_fds"`        // open file descriptors
	// Fields of the process that answered.
	Goroutines int `json:"goroutines"`
	GOMAXPROCS int `json:"gomaxprocs"`
	// Open client connections, where the server counts them; -1 where it does not.
	OpenConnections int64 `json:"open_connections"`
}

// Proc is one process's resource use.
type Proc struct {
	PID, PPID      int
	RSSBytes       int64
	Threads        int
	UserTicks      int64
	SysTicks       int64
	CtxVoluntary   int64
	CtxInvoluntary int64
	OpenFDs        int
}

// ErrNoProc is returned when /proc has no such process.
var ErrNoProc = errors.New("procstat: no such process")

var pageSize = int64(os.Getpagesize())

// Read returns one process's resource use.
func Read(pid int) (Proc, error) {
	p := Proc{PID: pid}
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return p, ErrNoProc
	}
	// The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return p, errors.New("procstat: malformed " + dir + "/stat")
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 22 {
		return p, errors.New("procstat: short " + dir + "/stat")
	}
	p.PPID, _ = strconv.Atoi(f[1])                   // field 4
	p.UserTicks, _ = strconv.ParseInt(f[11], 10, 64) // field 14
	p.SysTicks, _ = strconv.ParseInt(f[12], 10, 64)  // field 15
	p.Threads, _ = strconv.Atoi(f[17])               // field 20
	rss, _ := strconv.ParseInt(f[21], 10, 64)        // field 24, pages
	p.RSSBytes = rss * pageSize

	// /proc/PID/status counts the switches of the main thread only: sum the tasks.
	if tasks, err := os.ReadDir(dir + "/task"); err == nil {
		for _, t := range tasks {
			v, nv := ctxSwitches(dir + "/task/" + t.Name() + "/status")
			p.CtxVoluntary += v
			p.CtxInvoluntary += nv
		}
	}
	if fds, err := os.ReadDir(dir + "/fd"); err == nil {
		p.OpenFDs = len(fds)
	}
	return p, nil
}

func ctxSwitches(path string) (vol, nonvol int64) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
			vol, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		} else if v, ok := strings.CutPrefix(line, "nonvoluntary_ctxt_switches:"); ok {
			nonvol, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return vol, nonvol
}

// Descendants returns the pids of every live descendant of root, found by
// scanning /proc for parent links, in ascending order.
func Descendants(root int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], pid)
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	sort.Ints(out)
	return out
}

// Tree sums the resource use of root and all its live descendants.
// Processes that exit while it reads are left out.
func Tree(root int) (Snapshot, error) {
	var s Snapshot
	pids := append([]int{root}, Descendants(root)...)
	for i, pid := range pids {
		p, err := Read(pid)
		if err != nil {
			if i == 0 {
				return s, err
			}
			continue
		}
		s.PIDs = append(s.PIDs, pid)
		s.RSSBytes += p.RSSBytes
		s.Threads += p.Threads
		s.CPUUserS += float64(p.UserTicks) / clockTicks
		s.CPUSysS += float64(p.SysTicks) / clockTicks
		s.CtxVoluntary += p.CtxVoluntary
		s.CtxInvoluntary += p.CtxInvoluntary
		s.OpenFDs += p.OpenFDs
	}
	s.Processes = len(s.PIDs)
	return s, nil
}

// AppendJSON appends the /stats body for the tree rooted at root, as seen
// from the calling process: model names the server, openConns is the number
// of open client connections or -1 where the server does not count them.
func AppendJSON(dst []byte, model string, root int, openConns int64) []byte {
	s, err := Tree(root)
	if err != nil {
		s = Snapshot{}
	}
	s.Model = model
	s.Goroutines = runtime.NumGoroutine()
	s.GOMAXPROCS = runtime.GOMAXPROCS(0)
	s.OpenConnections = openConns
	b, _ := json.Marshal(s) // a struct of numbers and strings cannot fail to encode
	return append(dst, b...)
}
