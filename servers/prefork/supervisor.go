package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp/prefork"

	"github.com/serverlab/lab/internal/limits"
)

// Crash-loop policy. fasthttp's RecoverThreshold counts child exits over the
// master's whole life and never resets, so a long run with occasional child
// deaths would end in a silent shutdown. The master disables it and applies
// its own rule: more than crashLoopExits exits within crashLoopWindow is a
// crash loop, and the master stops with an error that says so.
const (
	crashLoopWindow = 10 * time.Second
	crashLoopPerCPU = 5
)

var errShuttingDown = errors.New("shutting down")

// supervisor is the master's state. Its methods run on the prefork
// goroutine (callbacks) and on the signal goroutine. mu guards stopping,
// live and exits: spawn checks stopping, starts the child and registers it
// under mu, and stopAll sets stopping and signals the registered children
// under mu, so a child is either refused or signalled, never missed.
type supervisor struct {
	cfg     config
	logger  *log.Logger
	spawned atomic.Int64

	mu       sync.Mutex
	stopping bool
	live     map[int]*os.Process
	exits    []time.Time // child exits within crashLoopWindow
}

// isStopping reports whether stopAll has run.
func (s *supervisor) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// preforkLogger is the logger fasthttp's prefork writes to. Once the master
// is stopping, it drops prefork's reports of what a normal stop does: a
// worker's clean exit (each worker logs its own), and the refused respawn
// (errShuttingDown) by which the master ends prefork's supervision loop.
// Every other line, and every line before the stop, goes through.
type preforkLogger struct{ s *supervisor }

func (l preforkLogger) Printf(format string, args ...any) {
	if l.s.isStopping() {
		msg := fmt.Sprintf(format, args...)
		if strings.Contains(msg, errShuttingDown.Error()) || strings.HasSuffix(msg, "exited cleanly") {
			return
		}
		l.s.logger.Print(msg)
		return
	}
	l.s.logger.Printf(format, args...)
}

// superviseChildren runs the master: it forks cfg.workers children sharing
// one listening socket, respawns any that dies, and on SIGINT/SIGTERM stops
// them all and waits for them before returning.
func superviseChildren(c config, stderr io.Writer) error {
	logger := log.New(stderr, "", log.LstdFlags)
	if _, err := limits.RaiseNofile(); err != nil {
		logger.Printf("prefork: %v", err)
	}
	// Pdeathsig fires when the thread that forked the child exits, not the
	// process: keep the forking goroutine (this one, which runs prefork's
	// supervision loop) on one thread for the master's whole life.
	runtime.LockOSThread()
	// prefork forks one child per GOMAXPROCS of the master.
	runtime.GOMAXPROCS(c.workers)

	s := &supervisor{cfg: c, logger: logger, live: map[int]*os.Process{}}
	p := prefork.New(newServer(c, logger))
	p.Logger = preforkLogger{s}
	p.Reuseport = c.reuseport
	p.RecoverThreshold = math.MaxInt // see crashLoopWindow
	p.ShutdownGracePeriod = c.grace
	p.CommandProducer = s.spawn
	p.OnChildSpawn = func(int) error { return nil }
	p.OnChildRecover = func(oldPID, newPID int) {
		s.mu.Lock()
		delete(s.live, oldPID)
		s.mu.Unlock()
		logger.Printf("prefork: child %d died, respawned as %d", oldPID, newPID)
	}
	p.OnMasterReady = func(pids []int) error {
		logger.Printf("prefork: fasthttp master %d, %d worker processes %v (GOMAXPROCS 1 each) on %s, dependency %q, %s",
			os.Getpid(), len(pids), pids, c.addr, c.dependency, &c.contract)
		return nil
	}

	// Every SIGINT/SIGTERM is handled: the first stops the workers, and
	// each later one sends SIGTERM again to the workers still running (a
	// worker that is still starting may not have installed its handler).
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigc)
	served := make(chan struct{})
	defer close(served)
	go func() {
		for n := 0; ; n++ {
			select {
			case <-served:
				return
			case sig := <-sigc:
				if n == 0 {
					logger.Printf("prefork: %v: stopping the workers, in-flight requests get %s", sig, c.grace)
				} else {
					logger.Printf("prefork: %v again: the workers are already stopping; signalling them again", sig)
				}
				s.stopAll()
			}
		}
	}()

	err := p.ListenAndServe(c.addr)
	if errors.Is(err, errShuttingDown) {
		// prefork has already waited for every child (SIGTERM, then SIGKILL after the grace period).
		logger.Printf("prefork: all workers stopped")
		return nil
	}
	return err
}

// spawn starts one child. prefork calls it on its goroutine for the first
// children and for every respawn; refusing here is how shutdown and the
// crash-loop rule stop the respawning.
func (s *supervisor) spawn(files []*os.File) (*exec.Cmd, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil, errShuttingDown
	}
	if s.spawned.Add(1) > int64(s.cfg.workers) {
		// Every spawn after the first workers replaces a child that exited.
		if err := s.recordExit(); err != nil {
			return nil, err
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:       exe,
		Args:       append([]string{exe}, s.cfg.args...),
		Env:        append(os.Environ(), "FASTHTTP_PREFORK_CHILD=1"),
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: files,
		// The kernel kills the child the moment the master dies, SIGKILL included.
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.live[cmd.Process.Pid] = cmd.Process
	return cmd, nil
}

// recordExit notes one child exit and refuses a crash loop. The caller holds mu.
func (s *supervisor) recordExit() error {
	now := time.Now()
	kept := s.exits[:0]
	for _, t := range s.exits {
		if now.Sub(t) < crashLoopWindow {
			kept = append(kept, t)
		}
	}
	s.exits = append(kept, now)
	if limit := crashLoopPerCPU * s.cfg.workers; len(s.exits) > limit {
		return fmt.Errorf("crash loop: %d worker exits in the last %s (limit %d); stopping the master",
			len(s.exits), crashLoopWindow, limit)
	}
	return nil
}

// stopAll refuses further respawns and sends SIGTERM to every live child.
// The first exit makes prefork ask spawn for a replacement, which fails with
// errShuttingDown; prefork then stops the rest and waits for them.
// It is safe to call more than once: each call signals the live children again.
func (s *supervisor) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopping = true
	for _, p := range s.live {
		p.Signal(syscall.SIGTERM)
	}
}
