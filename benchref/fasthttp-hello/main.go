// Command fasthttp-hello is a BENCHMARK REFERENCE, never a server model: a
// bare fasthttp server that answers "Hello, World!" to every request.
package main

import (
	"flag"
	"log"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	log.Printf("fasthttp-hello: BENCHMARK REFERENCE, bare fasthttp, on %s", *addr)
	s := &fasthttp.Server{
		Name: "fasthttp-hello",
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("text/plain; charset=utf-8")
			ctx.SetBodyString("Hello, World!")
		},
	}
	log.Fatal(s.ListenAndServe(*addr))
}
