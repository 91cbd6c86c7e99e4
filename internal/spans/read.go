package spans

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// Span is one recorded span as read back from the file. A field is zero
// when its event was not stamped (a request without a wait has no
// WaitStart/WaitEnd).
type Span struct {
	Pid          int    `json:"pid"`
	Req          int    `json:"req"`
	Route        string `json:"route"`
	StartTid     int    `json:"start_tid"`
	StartNs      int64  `json:"start_ns"`
	WaitStartTid int    `json:"wait_start_tid"`
	WaitStartNs  int64  `json:"wait_start_ns"`
	WaitEndTid   int    `json:"wait_end_tid"`
	WaitEndNs    int64  `json:"wait_end_ns"`
	EndTid       int    `json:"end_tid"`
	EndNs        int64  `json:"end_ns"`
}

// Read parses a spans file (one JSON object a line).
func Read(r io.Reader) ([]Span, error) {
	var out []Span
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var s Span
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("spans line %d: %w", n, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}
