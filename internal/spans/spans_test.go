package spans

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestDisabledRecordsNothing(t *testing.T) {
	if enabled {
		t.Skip(Env + " is set for this test process")
	}
	id := Start("io")
	if id != 0 {
		t.Fatalf("Start with recording off = %d, want 0", id)
	}
	id.WaitStart()
	id.WaitEnd()
	id.End() // must not touch the nil file
}

// TestRoundTripAndBound turns recording on in-process (as init does with
// LAB_SPANS), records spans, and reads them back; past the bound, Start
// drops.
func TestRoundTripAndBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spans.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	oldEnabled, oldFile, oldSlots, oldPid := enabled, file, slots, pid
	defer func() { enabled, file, slots, pid = oldEnabled, oldFile, oldSlots, oldPid; next.Store(0) }()
	enabled, file, slots, pid = true, f, make([]span, 2), os.Getpid()
	next.Store(0)

	a := Start("io")
	a.WaitStart()
	a.WaitEnd()
	a.End()
	b := Start("plaintext") // no wait
	b.End()
	if c := Start("io"); c != 0 {
		t.Fatalf("third Start with room for 2 = %d, want 0 (dropped)", c)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("read %d spans, want 2:\n%s", len(got), data)
	}
	s := got[0]
	if s.Route != "io" || s.Pid != os.Getpid() || s.StartTid == 0 || s.EndTid == 0 {
		t.Errorf("span %+v lacks its route, pid or thread ids", s)
	}
	if !(s.StartNs <= s.WaitStartNs && s.WaitStartNs <= s.WaitEndNs && s.WaitEndNs <= s.EndNs) {
		t.Errorf("events out of order: %+v", s)
	}
	if got[1].Route != "plaintext" || got[1].WaitStartNs != 0 || got[1].EndNs == 0 {
		t.Errorf("span without a wait: %+v", got[1])
	}
}
