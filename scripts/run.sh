#!/usr/bin/env bash
# Runs zkcli against a ZooKeeper on 127.0.0.1:2181 (ZK_PORT overrides). If
# nothing answers ruok there, starts a standalone server with its data in a
# temporary directory under /tmp, configured as package zktest configures
# its servers (TTL nodes, super user super:test, all four-letter commands),
# and stops it and removes the directory when zkcli exits.
# Arguments are passed to zkcli.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

host=127.0.0.1
port="${ZK_PORT:-2181}"

# four_letter CMD: the server's answer, or nothing. The timeout covers a
# server that answers without closing the connection.
four_letter() {
	(
		exec 3<>"/dev/tcp/$host/$port" && printf '%s' "$1" >&3 && timeout 2 cat <&3
	) 2>/dev/null || true
}

if [[ $(four_letter ruok) != imok ]]; then
	dir=$(mktemp -d /tmp/zkloop-run.XXXXXX)
	pid=
	cleanup() {
		if [[ -n $pid ]]; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
		rm -rf "$dir"
	}
	trap cleanup EXIT
	mkdir "$dir/data"
	cat >"$dir/zoo.cfg" <<-EOF
		tickTime=2000
		initLimit=10
		syncLimit=5
		dataDir=$dir/data
		clientPort=$port
		clientPortAddress=$host
		maxClientCnxns=0
	EOF
	cat >"$dir/log4j.properties" <<-'EOF'
		log4j.rootLogger=INFO, CONSOLE
		log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
		log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
		log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%c{1}] - %m%n
	EOF
	# base64(sha1("super:test")), as zktest.superDigest.
	digest=$(printf '%s' super:test | openssl sha1 -binary | base64)
	java -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar \
		-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -XX:-UsePerfData \
		-Djava.net.preferIPv4Stack=true \
		"-Dlog4j.configuration=file:$dir/log4j.properties" \
		-Dzookeeper.admin.enableServer=false \
		'-Dzookeeper.4lw.commands.whitelist=*' \
		-Dzookeeper.extendedTypesEnabled=true \
		"-Dzookeeper.DigestAuthenticationProvider.superDigest=super:$digest" \
		org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
		>"$dir/zookeeper.log" 2>&1 &
	pid=$!
	echo "run: started ZooKeeper on $host:$port (pid $pid, log $dir/zookeeper.log)" >&2
	deadline=$((SECONDS + 30))
	until [[ $(four_letter srvr) == *"Mode: "* ]]; do
		if ! kill -0 "$pid" 2>/dev/null || ((SECONDS > deadline)); then
			echo "run: ZooKeeper did not start; end of its log:" >&2
			tail -n 30 "$dir/zookeeper.log" >&2
			exit 1
		fi
		sleep 0.1
	done
fi

# Not exec: the trap must stop the server when zkcli exits.
go run ./cmd/zkcli -server "$host:$port" "$@"
