// Temporary measuring tool of helper D (not part of the lab): starts each
// named stack pinned to CPU 0 with procman, runs bin/loadgen pinned to CPU 1
// against each target, prints rps, p50, p99, threads and RSS.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/serverlab/lab/internal/procman"
	"github.com/serverlab/lab/loadgen/catalog"
)

func main() {
	root, _ := os.Getwd()
	loadgen := os.Getenv("LOADGEN")
	dep := os.Getenv("DEP")
	d := os.Getenv("DUR")
	if d == "" {
		d = "5s"
	}
	targets := strings.Split(os.Getenv("TARGETS"), " ")
	for _, name := range os.Args[1:] {
		cfg, ok := catalog.ConfigByName(name)
		if !ok {
			fmt.Println("no", name)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		spec := procman.Spec{Config: cfg, Root: root, CPUs: "0", Dependency: dep}
		if cfg.Kind == catalog.KindTwin {
			spec.Binary = "/tmp/stacksD/bin/" + cfg.Binary
		}
		p, err := procman.Start(ctx, spec)
		if err != nil {
			fmt.Println(name, "start:", err)
			cancel()
			continue
		}
		for _, tg := range targets {
			if len(cfg.Routes) > 0 && !strings.HasSuffix(tg, ":"+cfg.Routes[0]) {
				continue
			}
			c, path, _ := strings.Cut(tg, ":")
			sm := p.Sample(ctx, 0)
			out := "/tmp/stacksD/run.json"
			os.Remove(out)
			cmd := exec.Command("taskset", "-c", "1", loadgen, "run", "-url", p.BaseURL+path, "-c", c, "-d", d, "-warmup", "1s", "-json", out)
			b, err := cmd.CombinedOutput()
			u := sm.Finish(ctx)
			var r map[string]any
			if jb, e := os.ReadFile(out); e == nil {
				json.Unmarshal(jb, &r)
			}
			if err != nil && r == nil {
				fmt.Printf("%-18s c=%-4s %-22s loadgen: %v %s\n", name, c, path, err, b)
				continue
			}
			fmt.Printf("%-18s c=%-4s %-22s rps=%v p50=%v p99=%v errs=%v thr=%d rss=%dMiB cpu=%.2fs\n", name, c, path,
				pick(r, "rps"), pick(r, "latency_ms.p50"), pick(r, "latency_ms.p99"), pick(r, "errors", "error_rate"),
				u.ThreadsPeak, u.RSSPeak>>20, u.CPUUserS+u.CPUSysS)
		}
		if err := p.Stop(10 * time.Second); err != nil {
			fmt.Println(name, "stop:", err)
		}
		cancel()
	}
}

func pick(r map[string]any, keys ...string) any {
	for _, k := range keys {
		var cur any = r
		for _, part := range strings.Split(k, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = m[part]
		}
		if cur != nil {
			if f, ok := cur.(float64); ok {
				return fmt.Sprintf("%.1f", f)
			}
			return cur
		}
	}
	return "?"
}
