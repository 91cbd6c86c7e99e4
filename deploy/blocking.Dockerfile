# The thread-per-request server (net/http; goroutine or OS-thread mode).
# The goreleaser pattern: `make images` builds a static CGO_ENABLED=0 binary
# into build/static/ and sends only that file as the build context, so this
# build pulls nothing (scratch is no image) and needs no registry.
FROM scratch
COPY blocking /blocking
# nobody: the server needs no privileges (port 8080, reads only /proc/self).
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/blocking"]
# No default -addr here: the server's own default, 127.0.0.1:8080, is reachable
# only inside the container. docker-compose.yml gives each server its service
# name (-addr blocking-os:8080); by hand: docker run … -addr 0.0.0.0:8080
# (blocking, prefork), or, since eventloop refuses all interfaces:
#   docker run --hostname el -p 127.0.0.1::8080 serverlab/eventloop:local -addr el:8080
