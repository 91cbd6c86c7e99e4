package procstat

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

func TestTreeCountsChildren(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep binary:", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	s, err := Tree(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range s.PIDs {
		found = found || p == cmd.Process.Pid
	}
	if !found || s.Processes < 2 || s.PIDs[0] != os.Getpid() {
		t.Errorf("tree of the test process: %v, want it and its child %d", s.PIDs, cmd.Process.Pid)
	}
	if s.RSSBytes <= 0 || s.Threads < 2 || s.OpenFDs < 3 || s.CtxVoluntary <= 0 {
		t.Errorf("implausible snapshot %+v", s)
	}
}

func TestReadMissingProcess(t *testing.T) {
	if _, err := Tree(1 << 30); err == nil {
		t.Error("no error for a pid that cannot exist")
	}
}

func TestAppendJSON(t *testing.T) {
	var s Snapshot
	if err := json.Unmarshal(AppendJSON(nil, "test", os.Getpid(), 7), &s); err != nil {
		t.Fatal(err)
	}
	if s.Model != "test" || s.OpenConnections != 7 || s.Goroutines < 1 || s.GOMAXPROCS < 1 {
		t.Errorf("%+v", s)
	}
}
