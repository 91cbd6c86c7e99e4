package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// The fixed bodies. Callers must not modify them.
var (
	PlaintextBody = []byte("Hello, World!")
	JSONBody      = []byte(`{"message":"Hello, World!"}`)
)

// ContentType is the Content-Type of a route's successful answer.
func ContentType(r Route) string {
	if r == Plaintext {
		return ContentTypeText
	}
	return ContentTypeJSON
}

// AppendIOBody appends {"waited_ms":N}.
func AppendIOBody(dst []byte, ms int) []byte {
	dst = append(dst, `{"waited_ms":`...)
	dst = strconv.AppendInt(dst, int64(ms), 10)
	return append(dst, '}')
}

// cpuSeed is the fixed 32-byte seed of the /cpu chain.
var cpuSeed = sha256.Sum256([]byte("server-model comparison lab /cpu seed"))

// CPUDigest runs work rounds of SHA-256 chained over the fixed seed:
// d0 = seed, d(i+1) = SHA-256(d(i)). work = 0 returns the seed. Every server
// computes the same digest for the same work.
func CPUDigest(work int) [32]byte {
	d := cpuSeed
	for i := 0; i < work; i++ {
		d = sha256.Sum256(d[:])
	}
	return d
}

// AppendCPUBody appends {"work":N,"digest":"<hex>"}.
func AppendCPUBody(dst []byte, work int, digest [32]byte) []byte {
	dst = append(dst, `{"work":`...)
	dst = strconv.AppendInt(dst, int64(work), 10)
	dst = append(dst, `,"digest":"`...)
	dst = hex.AppendEncode(dst, digest[:])
	return append(dst, `"}`...)
}

// AppendFanoutBody appends {"calls":K,"mode":"seq|par","elapsed_ms":E},
// with E in milliseconds to three decimals.
func AppendFanoutBody(dst []byte, calls int, mode Mode, elapsed time.Duration) []byte {
	dst = append(dst, `{"calls":`...)
	dst = strconv.AppendInt(dst, int64(calls), 10)
	dst = append(dst, `,"mode":"`...)
	dst = append(dst, mode.String()...)
	dst = append(dst, `","elapsed_ms":`...)
	dst = strconv.AppendFloat(dst, float64(elapsed.Microseconds())/1000, 'f', 3, 64)
	return append(dst, '}')
}

// DependencyPath is the request target of one fan-out call: the dependency's
// /io with the same wait.
func DependencyPath(ms int) string { return "/io?ms=" + strconv.Itoa(ms) }

func appendErrorBody(dst []byte, msg string) []byte {
	dst = append(dst, `{"error":`...)
	dst = strconv.AppendQuote(dst, msg) // ASCII messages: a Go quote is valid JSON
	return append(dst, '}')
}
