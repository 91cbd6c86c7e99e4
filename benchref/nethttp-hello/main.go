// Command nethttp-hello is a BENCHMARK REFERENCE, never a server model: a
// bare net/http server that answers "Hello, World!" to every request.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	log.Printf("nethttp-hello: BENCHMARK REFERENCE, bare net/http, on %s", *addr)
	hello := []byte("Hello, World!")
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(hello)
	})))
}
