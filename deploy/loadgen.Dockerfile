# The load generator. Same pattern as the servers: a static CGO_ENABLED=0
# binary from `make images` on an empty image; nothing is pulled.
# It runs as root by default so that it can write a bind-mounted results
# directory; docker-compose.yml runs it as the invoking user (LAB_UID:LAB_GID).
# scratch has no /tmp: the compose service mounts a tmpfs there.
FROM scratch
COPY loadgen /loadgen
ENTRYPOINT ["/loadgen"]
CMD ["-h"]
