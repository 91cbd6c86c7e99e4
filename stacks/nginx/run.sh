#!/bin/sh
# Starts nginx in the foreground (master + 1 worker) with STATE_DIR as its
# prefix (pid, logs, temp files), listening on HOST:PORT only:
#   stacks/nginx/run.sh HOST PORT STATE_DIR
# (the catalog's nginx command; STATE_DIR is a fresh empty directory).
set -eu
host=$1 port=$2 state=$3
here=$(cd "$(dirname "$0")" && pwd)
sed "s/@LISTEN@/$host:$port/" "$here/nginx.conf" >"$state/nginx.conf"
# -e: the start-up error log, before nginx.conf is read, goes to the prefix
# too, not to /var/log/nginx.
exec /usr/sbin/nginx -p "$state/" -c "$state/nginx.conf" -e "$state/error.log"
