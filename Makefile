# The lab's entry points. `make test` and `make bench` are the two commands
# the README promises on a fresh machine with Go installed.
GO      ?= go
BIN     := bin
# Main packages: the three servers, the load generator, and the benchmark
# references (never served as models). Folders that do not exist yet are skipped.
MAINS   := $(wildcard servers/blocking servers/prefork servers/eventloop loadgen)
REFS    := $(wildcard benchref/*/main.go)

.PHONY: build test bench bench-quick bench-table vet clean stacks

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(addprefix ./,$(MAINS))
	$(if $(REFS),$(GO) build -o $(BIN)/ $(addprefix ./,$(dir $(REFS))))
	@# The Tomcat servlet (stacks/tomcat), where a JDK and Tomcat's servlet API
	@# are installed; otherwise its rows read "not installed".
	@stacks/tomcat/build.sh >/dev/null 2>&1 || echo "build: the Tomcat servlet was not compiled (no javac or libtomcat10-java; scripts/install-stacks.sh installs them)"

# The real stacks' Debian packages (Django, FastAPI, gunicorn, uvicorn,
# Tomcat, nginx): installed when run as root, otherwise named. A stack that
# is still missing reads "not installed" in the report; the bench goes on.
stacks:
	-scripts/install-stacks.sh

vet:
	$(GO) vet ./...

# Vet, then every test with the race detector; the conformance suite also
# builds the server binaries it starts with -race (LABTEST_RACE=1).
test: vet
	LABTEST_RACE=1 $(GO) test -race -count=1 -timeout 20m ./...

# The lab's main job: build, run the whole scenario catalog (servers pinned
# to the first half of the CPUs, load to the rest), and write
# results/latest.md, results/latest.json and results/charts/.
bench: stacks build
	scripts/bench.sh

# The same in about a minute: one repetition, short phases, fewer points.
bench-quick: stacks build
	scripts/bench.sh -quick

# The in-process benchmark table (go test -bench): the same workloads against
# every server, a quick sanity check of raw speed.
bench-table:
	scripts/bench-table.sh

# Refresh the README's screenshots of `loadgen live` (docs/live.png, and
# docs/live-io-wait.png): the browser test runs two demos in headless
# Chromium and writes its screenshots there.
.PHONY: live-screenshot
live-screenshot:
	@command -v chromium >/dev/null 2>&1 || { echo "$@: needs chromium (apt-get install chromium)" >&2; exit 1; }
	SCREENSHOT_DIR=$(CURDIR)/docs $(GO) test -count=1 -v -run '^TestBrowser$$' ./loadgen/live/

clean:
	rm -rf $(BIN)

# The adversarial battery's figures (internal/conformance, adversarial_test.go):
# each hostile client against every server configuration, non-race builds,
# with the server's RSS growth over idle and a bystander's latency. About 15
# minutes in all, the servers pinned to CPU 0 and the clients to the others;
# ADVERSARIAL_RUN picks part of it (a server, or server/attack),
# LAB_ADVERSARIAL_SECONDS shortens it, LAB_ADVERSARIAL_OUT=FILE keeps the table.
# Run it under the measurement lock when other work shares the machine.
ADVERSARIAL_RUN ?=
.PHONY: adversarial
adversarial:
	LAB_ADVERSARIAL=1 $$([ $$(nproc) -gt 1 ] && command -v taskset >/dev/null && echo taskset -c 1-$$(($$(nproc)-1))) \
	  $(GO) test -count=1 -v -timeout 60m -run 'TestAdversarialReport/$(ADVERSARIAL_RUN)' ./internal/conformance/

# ---- Containers (see "Running in containers" in README.md) ----------------
# Static CGO_ENABLED=0 binaries in build/static/, then one FROM-scratch image
# per binary whose build context is that one file (the goreleaser pattern):
# no build step pulls a base image, so no registry is needed.
STATIC      := build/static
IMAGE_BINS  ?= blocking prefork eventloop loadgen
IMAGE_TAG   ?= local
# Extra flags for `loadgen suite` in compose-bench, e.g. SUITE_ARGS="-quick".
SUITE_ARGS  ?=
# Says plainly when no Docker engine answers, and stops.
DOCKER_CHECK = @command -v docker >/dev/null 2>&1 && timeout 30 docker info >/dev/null 2>&1 || \
	{ echo "$@: no Docker engine answers (docker info failed or docker is not installed); nothing to do" >&2; exit 1; }

.PHONY: static images compose-bench compose-smoke

static:
	@mkdir -p $(STATIC)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(STATIC)/ $(addprefix ./,$(MAINS))

images: static
	$(DOCKER_CHECK)
	@for b in $(IMAGE_BINS); do \
	  test -x $(STATIC)/$$b || { echo "images: $(STATIC)/$$b was not built (is $$b a main package yet?)" >&2; exit 1; }; \
	  mkdir -p build/context/$$b && { ln -f $(STATIC)/$$b build/context/$$b/$$b 2>/dev/null || cp -f $(STATIC)/$$b build/context/$$b/$$b; } || exit 1; \
	  echo "docker build -f deploy/$$b.Dockerfile -t serverlab/$$b:$(IMAGE_TAG) build/context/$$b"; \
	  out=$$(docker build -q -f deploy/$$b.Dockerfile -t serverlab/$$b:$(IMAGE_TAG) build/context/$$b 2>&1) || { echo "$$out" >&2; exit 1; }; \
	  echo "$$out" | grep '^sha256:' || true; \
	done

# The whole suite in containers (docker-compose.yml): servers on cpuset 0,
# load and dependency on cpuset 1. Writes results/compose/ and
# results/compose-latest.md, and takes every container down, even on failure.
compose-bench:
	$(DOCKER_CHECK)
	@$(MAKE) --no-print-directory images
	LAB_IMAGE_TAG=$(IMAGE_TAG) scripts/compose-bench.sh $(SUITE_ARGS)

# A quick compose suite end to end; skips, saying so, where no engine runs.
compose-smoke:
	scripts/compose-smoke.sh

# The suite on a Docker Swarm (deploy/stack.yml; owner H): a single-node
# swarm if none is active (left again afterwards), N load agents per
# measurement merged exactly (LAB_REPLICAS, default 2). Writes results/swarm/
# and results/swarm-latest.md; removes the stack, also on failure or ^C.
.PHONY: swarm-bench swarm-smoke
swarm-bench:
	LAB_IMAGE_TAG=$(IMAGE_TAG) scripts/swarm-bench.sh $(SUITE_ARGS)

# A quick 2-replica swarm suite end to end; skips where no engine runs.
swarm-smoke:
	scripts/swarm-smoke.sh
