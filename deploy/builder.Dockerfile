# OPTIONAL variant: compiles inside a golang image instead of using the
# binaries `make images` built. It PULLS golang:1.26 from a registry, so it
# does not work on the lab's machines (no registry); `make images` is the
# supported path. Build one image per target, from the repository root:
#
#   docker build -f deploy/builder.Dockerfile --target blocking  -t serverlab/blocking:local .
#   docker build -f deploy/builder.Dockerfile --target prefork   -t serverlab/prefork:local .
#   docker build -f deploy/builder.Dockerfile --target eventloop -t serverlab/eventloop:local .
#   docker build -f deploy/builder.Dockerfile --target loadgen   -t serverlab/loadgen:local .
#
# The final images are the same as make's: one static binary FROM scratch
# (see blocking.Dockerfile for -addr).
ARG GO_IMAGE=golang:1.26
FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN mkdir -p /out && for p in servers/blocking servers/prefork servers/eventloop loadgen; do \
      CGO_ENABLED=0 go build -trimpath -o /out/ ./$p || exit 1; \
    done

FROM scratch AS blocking
COPY --from=build /out/blocking /blocking
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/blocking"]

FROM scratch AS prefork
COPY --from=build /out/prefork /prefork
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/prefork"]

FROM scratch AS eventloop
COPY --from=build /out/eventloop /eventloop
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/eventloop"]

FROM scratch AS loadgen
COPY --from=build /out/loadgen /loadgen
ENTRYPOINT ["/loadgen"]
CMD ["-h"]
