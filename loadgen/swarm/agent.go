package swarm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/serverlab/lab/loadgen/engine"
)

// AgentConfig configures RunAgent.
type AgentConfig struct {
	Rendezvous string    // base URL of the coordinator, e.g. http://coord:9000
	ID         string    // unique per agent; default hostname-pid-random
	Log        io.Writer // what the agent does; nil for none
	// MaxJobs, when above zero, makes the agent return after that many
	// jobs (tests); 0 serves until ctx ends.
	MaxJobs int
}

// RunAgent registers with the rendezvous and runs the jobs it is handed
// until ctx ends. It never gives up on the coordinator: at start its name
// may not resolve yet ("no such host" is normal while Swarm schedules it)
// and a new suite run replaces it, so every failure is retried with
// backoff (capped at 5 s). Run as a replicated Swarm service.
func RunAgent(ctx context.Context, cfg AgentConfig) error {
	base := strings.TrimRight(cfg.Rendezvous, "/")
	if !strings.HasPrefix(base, "http://") {
		return fmt.Errorf("-rendezvous: want http://host:port, got %q", cfg.Rendezvous)
	}
	id := cfg.ID
	if id == "" {
		h, _ := os.Hostname()
		id = fmt.Sprintf("%s-%d-%04x", h, os.Getpid(), rand.IntN(1<<16))
	}
	logf := func(format string, a ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "agent %s: "+format+"\n", append([]any{id}, a...)...)
		}
	}
	client := &http.Client{Timeout: pollWait + 10*time.Second}
	backoff := 100 * time.Millisecond
	retry := func(err error) error {
		logf("%v; retrying in %s", err, backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
		return nil
	}
	registered := false
	jobs := 0
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !registered {
			if err := post(ctx, client, base+"/register", map[string]string{"agent": id}); err != nil {
				if e := retry(fmt.Errorf("register: %w", err)); e != nil {
					return e
				}
				continue
			}
			registered, backoff = true, 100*time.Millisecond
			logf("registered with %s", base)
		}
		job, err := poll(ctx, client, base+"/work?agent="+id)
		switch {
		case err == errUnknown:
			registered = false
			continue
		case err != nil:
			if e := retry(fmt.Errorf("poll: %w", err)); e != nil {
				return e
			}
			continue
		case job == nil:
			continue // the poll timed out: park again
		}
		backoff = 100 * time.Millisecond
		logf("job %d: %s, %d conns, warm-up %s, window %s", job.Seq, job.URL, job.Conns, job.Warmup, job.Measure)
		part := runJob(ctx, id, job)
		for try := 0; ; try++ { // the result must arrive: a lost part fails the row
			if err := post(ctx, client, base+"/result", part); err == nil {
				break
			} else if try == 5 {
				logf("could not post job %d's result: %v", job.Seq, err)
				break
			} else if e := retry(fmt.Errorf("post result: %w", err)); e != nil {
				return e
			}
		}
		if jobs++; cfg.MaxJobs > 0 && jobs >= cfg.MaxJobs {
			return nil
		}
	}
}

// runJob runs one job with the fast engine and packs the part.
func runJob(ctx context.Context, id string, j *Job) Part {
	p := Part{Agent: id, Seq: j.Seq, Conns: j.Conns}
	res, err := engine.Run(ctx, engine.Config{URL: j.URL, Conns: j.Conns, Pipeline: j.Pipeline, Rate: j.Rate,
		Timeout: j.Timeout, Warmup: j.Warmup, Duration: j.Measure}, nil)
	if err == nil && res.Histogram == nil {
		err = fmt.Errorf("the engine returned no histogram")
	}
	if err != nil {
		p.Error = err.Error()
		return p
	}
	if p.Histogram, err = engine.EncodeHistogram(res.Histogram); err != nil {
		p.Error = "encode histogram: " + err.Error()
		return p
	}
	p.Result, _ = json.Marshal(res)
	return p
}

func post(ctx context.Context, c *http.Client, url string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s", url, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// poll parks in GET /work: a job, nil (nothing yet), errUnknown, or an error.
func poll(ctx context.Context, c *http.Client, url string) (*Job, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return nil, nil
	case http.StatusNotFound:
		return nil, errUnknown
	case http.StatusOK:
		var j Job
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&j); err != nil {
			return nil, fmt.Errorf("bad job: %w", err)
		}
		return &j, nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return nil, fmt.Errorf("%s: %s %s", url, resp.Status, strings.TrimSpace(string(msg)))
}
