#!/usr/bin/env bash
# Installs what `make test` needs and is missing, on Debian or Ubuntu:
#   a JDK (java for the ZooKeeper servers of zktest, javac),
#   the ZooKeeper server jars (libzookeeper-java, with its log4j binding),
#   the zookeeper package (its scripts and /etc/zookeeper/conf),
#   Apache Curator's recipes and service discovery with slf4j-nop (the Java
#   side of the recipes' interop tests, internal/curator, compiled with javac),
#   gcc and libc headers (go test -race needs cgo).
# With the argument "bench" (make bench), also what bench/compare needs:
#   the Apache C client's headers and library (libzookeeper-mt-dev), which
#   its C driver is built against with gcc (the C floor needs gcc alone).
# Idempotent; prints nothing when everything is there.
set -euo pipefail

case ${1:-} in
"" | bench) ;;
*)
	echo "usage: $0 [bench]" >&2
	exit 2
	;;
esac

packages=()
need() { # need PACKAGE: queue PACKAGE once
	local p
	for p in "${packages[@]}"; do
		[[ $p == "$1" ]] && return
	done
	packages+=("$1")
}
installed() { # installed PACKAGE: is the Debian package installed?
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

[[ -x /usr/bin/java ]] || need default-jdk-headless
command -v javac >/dev/null || need default-jdk-headless
[[ -f /usr/share/java/zookeeper.jar ]] || need libzookeeper-java
[[ -f /usr/share/java/zookeeper-jute.jar ]] || need libzookeeper-java
[[ -f /usr/share/java/netty-codec.jar ]] || need libnetty-java # the TLS port's Netty, missing from zookeeper.jar's manifest
installed zookeeper || need zookeeper
[[ -f /usr/share/java/curator-recipes.jar ]] || need libcurator-recipes-java
[[ -f /usr/share/java/curator-x-discovery.jar ]] || need libcurator-discovery-java
[[ -f /usr/share/java/slf4j-nop.jar ]] || need libslf4j-java
command -v gcc >/dev/null || need gcc
installed libc6-dev || need libc6-dev
if [[ ${1:-} == bench ]]; then
	installed libzookeeper-mt-dev || need libzookeeper-mt-dev
fi

if ((${#packages[@]} > 0)); then
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		sudo=(sudo)
	fi
	echo "deps: installing ${packages[*]}"
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if ! command -v go >/dev/null && [[ ! -x /usr/local/go/bin/go ]]; then
	echo "deps: no go on PATH or in /usr/local/go/bin; install Go 1.26" >&2
	exit 1
fi
