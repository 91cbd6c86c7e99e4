package timeline

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/labtest"
	"github.com/serverlab/lab/internal/spans"
)

// TestInlineSerialAsyncOverlaps runs the runner for the event loop's inline
// and async styles and checks, from the spans' order (no timing values),
// that inline's three waits run one after another on the loop thread while
// async's overlap on it; and that each SVG parses as XML.
func TestInlineSerialAsyncOverlaps(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tls, err := Run(ctx, Options{
		Out:    dir,
		Models: []string{"eventloop-inline", "eventloop-async"},
		Binary: func(name string) string { return labtest.Binary(t, "servers/"+name) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tls) != 2 {
		t.Fatalf("got %d timelines, want 2", len(tls))
	}
	for _, tl := range tls {
		if len(tl.Spans) != 3 {
			t.Fatalf("%s: %d spans, want 3", tl.Model, len(tl.Spans))
		}
		// gnet's loop is a goroutine not locked to a thread, so only a wait
		// that holds the thread (inline's nanosleep) must end on the thread
		// it started on.
		if tl.Model == "eventloop-inline" {
			for _, s := range tl.Spans {
				if s.WaitStartTid != s.WaitEndTid {
					t.Errorf("inline: request %d's wait began on thread %d and ended on %d; a nanosleep holds its thread", s.Req, s.WaitStartTid, s.WaitEndTid)
				}
			}
		}
		overlaps := 0
		for i := range tl.Spans {
			for j := i + 1; j < len(tl.Spans); j++ {
				if waitsOverlap(tl.Spans[i], tl.Spans[j]) {
					overlaps++
				}
			}
		}
		switch tl.Model {
		case "eventloop-inline":
			if overlaps != 0 {
				t.Errorf("inline: %d pairs of waits overlap on the loop; a blocking wait should hold it: %+v", overlaps, tl.Spans)
			}
		case "eventloop-async":
			if overlaps == 0 {
				t.Errorf("async: no waits overlap; the timer wheel should let them: %+v", tl.Spans)
			}
		}
		for _, name := range []string{SVGName(tl.Model), JSONName(tl.Model)} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Error(err)
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, SVGName(tl.Model)))
		if err != nil {
			t.Fatal(err)
		}
		if err := parseXML(b); err != nil {
			t.Errorf("%s: %v", SVGName(tl.Model), err)
		}
	}
}

func waitsOverlap(a, b spans.Span) bool {
	return a.WaitStartNs < b.WaitEndNs && b.WaitStartNs < a.WaitEndNs
}

func parseXML(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// TestRenderEmpty: a timeline with no spans still renders valid XML.
func TestRenderEmpty(t *testing.T) {
	if err := parseXML(Render(Timeline{Model: "x"})); err != nil {
		t.Fatal(err)
	}
}
