package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
)

// openConnections counts the open client connections of every worker: the
// TCP sockets in /proc/net/tcp and /proc/net/tcp6 whose local port is the
// server's port and whose state is ESTABLISHED (01) or CLOSE_WAIT (08: the
// client has closed, the worker not yet). The workers are separate processes
// that share no memory, so the kernel's socket table is the one place that
// sees all of their connections; connections still in the accept queue are
// counted too, as the client sees them open. It returns -1 when the tables
// cannot be read. It reads /proc on every call: /stats only, never a hot path.
func openConnections(port int) int64 {
	if port <= 0 {
		return -1
	}
	want := []byte(":" + hexPort(port))
	var n int64
	read := false
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		read = true
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			// "  sl  local_address rem_address   st ..."; local_address is HEXIP:HEXPORT.
			fields := bytes.Fields(sc.Bytes())
			if len(fields) < 4 {
				continue
			}
			if !bytes.HasSuffix(fields[1], want) {
				continue
			}
			if st := string(fields[3]); st == "01" || st == "08" {
				n++
			}
		}
		f.Close()
	}
	if !read {
		return -1
	}
	return n
}

// hexPort formats a port as /proc/net/tcp does: four upper-case hex digits.
func hexPort(port int) string { return fmt.Sprintf("%04X", port) }
