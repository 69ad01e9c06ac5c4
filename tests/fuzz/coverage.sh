#!/bin/sh
# Line coverage of each fuzz target's sources: every input of its corpus (build/fuzz/corpus, as
# `make fuzz` grew it, and the committed seeds) run once through a coverage build, reported per
# file by llvm-cov.
#
# usage: tests/fuzz/coverage.sh TARGET...
set -eu
for t in "$@"; do
	mkdir -p "build/fuzz/corpus/$t" build/cov/prof
	LLVM_PROFILE_FILE="build/cov/prof/$t.profraw" "build/cov/$t" -runs=0 "build/fuzz/corpus/$t" \
		"tests/fuzz/corpus/$t" > "build/cov/$t.log" 2>&1
	llvm-profdata merge -sparse "build/cov/prof/$t.profraw" -o "build/cov/prof/$t.profdata"
	echo "== $t"
	llvm-cov report "build/cov/$t" -instr-profile="build/cov/prof/$t.profdata" \
		-ignore-filename-regex='tests/fuzz/' |
		awk 'NR == 1 { printf "%-32s %8s %8s %8s\n", "file (reached)", "lines", "missed", "covered" }
		     /\.c / && $8 != $9 { printf "%-32s %8s %8s %8s\n", $1, $8, $9, $10 }'
done
