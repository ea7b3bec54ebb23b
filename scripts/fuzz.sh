#!/usr/bin/env bash
# Runs every fuzz target named in a FUZZ_TARGETS file (one name per line,
# # comments) for FUZZTIME each (default 3s). A failing input is written to
# the package's testdata/fuzz/NAME/ and fails the run. Go's fuzzing engine
# sometimes ends a time-bounded run with "context deadline exceeded" and no
# failing input; such a run is repeated once rather than failing the build.
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}
fuzztime=${FUZZTIME:-3s}

crashers() { # crashers PKG NAME: number of saved failing inputs
	local dir="$1/testdata/fuzz/$2"
	if [[ -d $dir ]]; then find "$dir" -type f | wc -l; else echo 0; fi
}

for list in $(find . -name FUZZ_TARGETS -not -path './.git/*' | sort); do
	pkg=$(dirname "$list")
	for name in $(grep -v '^[[:space:]]*#' "$list"); do
		if ! grep -qs "^func $name(" "$pkg"/*_test.go; then
			echo "fuzz: $list names $name, which no test file of $pkg defines" >&2
			exit 1
		fi
		cmd=("$go" test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s "$pkg")
		echo "${cmd[*]}"
		before=$(crashers "$pkg" "$name")
		if ! "${cmd[@]}"; then
			if [[ $(crashers "$pkg" "$name") != "$before" ]]; then
				echo "fuzz: $name found a failing input (see $pkg/testdata/fuzz/$name)" >&2
				exit 1
			fi
			echo "fuzz: $name ended without a failing input; running it once more"
			"${cmd[@]}"
		fi
	done
done
