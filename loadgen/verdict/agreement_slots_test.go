package verdict

import (
	"strings"
	"testing"
)

// A real stack whose cap differs from its twin's diverges even when each
// runs at its own Little bound: Django's sync views on ASGI share one
// thread where the twin has a pool of 40.
func TestSlotsDiffer(t *testing.T) {
	for _, tc := range []struct {
		twin, real string
		want       string // "" for no difference
	}{
		{"eventloop-pool", "django-asgi-sync", "cap is 40 pool threads, the real stack's 1 pool thread"},
		{"blocking-os", "tomcat-200", ""},
		{"eventloop-pool", "fastapi-def", ""},
		{"prefork-2", "gunicorn-sync-2", "cap is its connections, the real stack's 2 threads"},
		{"eventloop-async", "no-such-stack", ""},
	} {
		got := slotsDiffer(tc.twin, tc.real)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("slotsDiffer(%s, %s) = %q, want %q", tc.twin, tc.real, got, tc.want)
		}
	}
}
