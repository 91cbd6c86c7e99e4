// Package syncbuf is a bytes.Buffer safe for concurrent use: the place a
// child process's stderr (written by os/exec's copying goroutine) is
// collected while a test or the suite reads it.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects writes from any goroutine. With Limit > 0 it keeps only
// the first Limit bytes and drops the rest (a chatty server must not grow
// its reader without bound). The zero value is ready to use.
type Buffer struct {
	Limit int

	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p, or pretends to once the limit is reached.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Limit > 0 && s.b.Len() >= s.Limit {
		return len(p), nil
	}
	return s.b.Write(p)
}

// String returns everything kept so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
