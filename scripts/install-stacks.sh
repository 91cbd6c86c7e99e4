#!/bin/sh
# Installs what the real stacks (stacks/, catalog.Stacks) need from Debian's
# packages, then compiles the Tomcat servlet (stacks/tomcat/build.sh).
#
#   scripts/install-stacks.sh          install what is missing (as root), or
#                                      say exactly what is missing (otherwise)
#   scripts/install-stacks.sh -check   only say what is missing
#
# Idempotent: installed packages are skipped, and nothing is fetched when
# everything is present. No system service is started: nginx's and any
# other package's start-up is refused with a policy-rc.d during the install
# (the lab runs nginx and Tomcat from its own prefix, on loopback).
# Exit status: 0 when every stack can run, 1 when something is still
# missing (its rows then read "not installed" and `make bench` goes on).
set -eu
cd "$(dirname "$0")/.."

check=0
[ "${1:-}" = "-check" ] && check=1

# Debian package → what it provides the stacks (for the messages).
pkgs="python3-django:Django python3-gunicorn:gunicorn python3-uvicorn:uvicorn python3-uvloop:uvloop
python3-httptools:httptools python3-fastapi:FastAPI python3-starlette:Starlette python3-anyio:anyio
python3-aiohttp:aiohttp python3-requests:requests openjdk-17-jdk-headless:javac+java
libtomcat10-java:Tomcat-10 tomcat10-user:tomcat10-instance-create nginx-light:nginx"

installed() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=""
for p in $pkgs; do
	name=${p%%:*}
	if [ "$name" = nginx-light ] && [ -x /usr/sbin/nginx ]; then
		continue # any nginx package will do (newer Debian has no nginx-light)
	fi
	installed "$name" || missing="$missing $name"
done

if [ -n "$missing" ] && [ "$check" = 0 ] && [ "$(id -u)" = 0 ]; then
	echo "install-stacks: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Newer Debian dropped nginx-light: fall back to nginx.
	case " $missing " in *" nginx-light "*)
		apt-cache show nginx-light >/dev/null 2>&1 || missing=$(echo "$missing" | sed 's/nginx-light/nginx/') ;;
	esac
	remove_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# scripts/install-stacks.sh: no service starts during the install\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		remove_policy=1
	fi
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	apt-get install -y -qq --no-install-recommends $missing || true
	[ "$remove_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
	still=""
	for name in $missing; do installed "$name" || still="$still $name"; done
	missing=$still
fi

status=0
if [ -n "$missing" ]; then
	echo "install-stacks: missing Debian packages:$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "install-stacks: as root, run: apt-get install --no-install-recommends$missing"
	fi
	echo "install-stacks: the stacks that need them read \"not installed\" in reports"
	status=1
fi

# The Python stacks run on Debian's interpreter, whatever python3 is on PATH.
if [ -x /usr/bin/python3 ]; then
	for m in django gunicorn uvicorn uvloop httptools fastapi aiohttp requests; do
		/usr/bin/python3 -c "import $m" 2>/dev/null || { echo "install-stacks: /usr/bin/python3 cannot import $m"; status=1; }
	done
else
	echo "install-stacks: /usr/bin/python3 is missing (package python3)"
	status=1
fi

if [ "$check" = 0 ] && command -v javac >/dev/null 2>&1 && [ -e /usr/share/java/tomcat10-servlet-api.jar ]; then
	stacks/tomcat/build.sh || status=1
elif [ ! -e stacks/tomcat/build/webapp/WEB-INF/classes/lab/Routes.class ]; then
	echo "install-stacks: the Tomcat servlet is not compiled (needs javac and libtomcat10-java; then stacks/tomcat/build.sh)"
	status=1
fi

[ "$status" = 0 ] && echo "install-stacks: every stack is installed"
exit "$status"
