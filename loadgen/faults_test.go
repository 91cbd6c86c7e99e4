package main

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/labtest"
)

// TestRunServerKilledMidRun: the target process dies with SIGKILL during
// the run. The failures are counted by class, and the summary and the JSON
// are still written; the run itself ends normally (failures are results).
func TestRunServerKilledMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	p := labtest.Start(t, labtest.Binary(t, "servers/blocking"), "")
	path := filepath.Join(t.TempDir(), "killed.json")
	time.AfterFunc(400*time.Millisecond, func() { syscall.Kill(p.Pid(), syscall.SIGKILL) })
	code, stdout, stderr := runArgs(t, context.Background(), "run", "-url", "http://"+p.Addr+"/io?ms=5", "-c", "8", "-d", "1500ms", "-timeout", "1s", "-json", path)
	if code != exitOK {
		t.Fatalf("exit %d; stderr %q", code, stderr)
	}
	m := readJSON(t, path)
	byClass, _ := m["errors_by_class"].(map[string]any)
	failed := 0.0
	for _, class := range []string{"refused", "reset", "eof"} {
		n, _ := byClass[class].(float64)
		failed += n
	}
	if m["responses"].(float64) == 0 || failed == 0 || m["errors"].(float64) < failed {
		t.Errorf("responses %v, errors %v, by class %v: the kill should show as refused/reset/eof", m["responses"], m["errors"], byClass)
	}
	if !strings.Contains(stdout, "Requests/sec:") || !strings.Contains(strings.ToLower(stdout), "refused") {
		t.Errorf("summary does not show the failures:\n%s", stdout)
	}
}
