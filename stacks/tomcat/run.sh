#!/bin/sh
# Starts the servlet on Tomcat 10 in the foreground, from a private
# CATALINA_BASE made with tomcat10-instance-create, on loopback only:
#   stacks/tomcat/run.sh HOST PORT STATE_DIR
# (the catalog's tomcat-200 command; STATE_DIR is a fresh empty directory).
# No system service is involved: Debian's libtomcat10-java supplies
# CATALINA_HOME (/usr/share/tomcat10) and tomcat10-user the instance script.
set -eu
host=$1 port=$2 state=$3
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$here/build/webapp/WEB-INF/classes/lab" ] || {
	echo "stacks/tomcat/run.sh: the servlet is not compiled: run stacks/tomcat/build.sh" >&2
	exit 1
}
base=$state/catalina-base
# -c: a control port the instance script writes; conf/server.xml below
# replaces that file and has no control port at all (port="-1").
tomcat10-instance-create -p "$port" -c "$((port + 1))" "$base" </dev/null >"$state/instance-create.log"
cp "$here/conf/server.xml" "$base/conf/server.xml"
# No TLD/annotation scan of Tomcat's own jars (the webapp has nothing to
# find there), as Tomcat's start-up log advises: seconds less per start.
echo "tomcat.util.scan.StandardJarScanFilter.jarsToSkip=*.jar" >>"$base/conf/catalina.properties"
cp -r "$here/build/webapp" "$base/webapps/ROOT"
export CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE="$base" CATALINA_TMPDIR="$base/temp"
export CATALINA_OPTS="-Dlab.host=$host -Dlab.port=$port -Djdk.httpclient.allowRestrictedHeaders=connection ${CATALINA_OPTS:-}"
exec /usr/share/tomcat10/bin/catalina.sh run
