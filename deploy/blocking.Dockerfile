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
# Servers default to 127.0.0.1; a container must listen on all its interfaces.
CMD ["-addr", "0.0.0.0:8080"]
