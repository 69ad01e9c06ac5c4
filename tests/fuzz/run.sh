#!/bin/sh
# Runs every fuzz target for SECONDS: with clang's libFuzzer (coverage-guided, growing a corpus
# in build/fuzz/corpus from the seeds committed in tests/fuzz/corpus) where clang has it, else
# with tests/fuzz/driver.c's blind mutator. Both under ASan and UBSan; any finding fails.
#
# usage: tests/fuzz/run.sh SECONDS TARGET...
set -u
seconds=$1
shift
engine=driver
mkdir -p build/fuzz
if command -v clang > /dev/null 2>&1 &&
   printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
   clang -fsanitize=fuzzer -x c - -o build/fuzz/.probe 2> /dev/null; then
	engine=libfuzzer
fi
rm -f build/fuzz/.probe
status=0
for t in "$@"; do
	if [ $engine = libfuzzer ]; then
		make -s "build/libfuzzer/$t" || { status=1; continue; }
		mkdir -p "build/fuzz/corpus/$t"
		echo "$t: libFuzzer, $seconds s, corpus build/fuzz/corpus/$t (seeds in tests/fuzz/corpus/$t)"
		"build/libfuzzer/$t" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
			-artifact_prefix="build/fuzz/$t-" "build/fuzz/corpus/$t" "tests/fuzz/corpus/$t" \
			> "build/fuzz/$t.log" 2>&1
		st=$?
		grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)|^#.*DONE' "build/fuzz/$t.log" |
			tr '\n' ' '
		echo
		if [ $st -ne 0 ]; then
			echo "FAIL $t: libFuzzer found a crash (status $st); the input is build/fuzz/$t-crash-*"
			tail -n 30 "build/fuzz/$t.log"
			status=1
		else
			echo "PASS $t: $(ls "build/fuzz/corpus/$t" | wc -l) inputs in the corpus, no finding"
		fi
	else
		make -s "build/fuzz/$t" || { status=1; continue; }
		"build/fuzz/$t" "$seconds" || status=1
	fi
done
exit $status
