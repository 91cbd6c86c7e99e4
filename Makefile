# The lab's entry points. `make test` and `make bench` are the two commands
# the README promises on a fresh machine with Go installed.
GO      ?= go
BIN     := bin
# Main packages: the three servers, the load generator, and the benchmark
# references (never served as models). Folders that do not exist yet are skipped.
MAINS   := $(wildcard servers/blocking servers/prefork servers/eventloop loadgen)
REFS    := $(wildcard benchref/*/main.go)

.PHONY: build test bench vet race-off clean

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(addprefix ./,$(MAINS))
	$(if $(REFS),$(GO) build -o $(BIN)/ $(addprefix ./,$(dir $(REFS))))

vet:
	$(GO) vet ./...

# Vet, then every test with the race detector; the conformance suite also
# builds the server binaries it starts with -race (LABTEST_RACE=1).
test: vet
	LABTEST_RACE=1 $(GO) test -race -count=1 -timeout 20m ./...

# The best real measurement the code makes so far: the shared benchmark table
# (every server, same workloads), server pinned to CPU 0, client to CPU 1.
bench: build
	scripts/bench.sh

clean:
	rm -rf $(BIN)
