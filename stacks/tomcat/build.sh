#!/bin/sh
# Compiles the servlet against Tomcat 10's servlet API into build/webapp
# (a Tomcat web application: WEB-INF/web.xml and WEB-INF/classes).
# Needs javac (OpenJDK 17) and libtomcat10-java. Idempotent; gitignored output.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
api=/usr/share/java/tomcat10-servlet-api.jar
for need in javac:"$(command -v javac || true)" "$api":"$api"; do
	path=${need#*:}
	if [ -z "$path" ] || [ ! -e "$path" ]; then
		echo "stacks/tomcat/build.sh: missing ${need%%:*} (install openjdk-17-jdk-headless and libtomcat10-java, or run scripts/install-stacks.sh as root)" >&2
		exit 1
	fi
done
out=$here/build/webapp
rm -rf "$out"
mkdir -p "$out/WEB-INF/classes"
cp "$here/webapp/WEB-INF/web.xml" "$out/WEB-INF/"
javac -nowarn --release 17 -cp "$api" -d "$out/WEB-INF/classes" "$here"/src/lab/*.java
echo "stacks/tomcat: compiled into $out"
