#!/bin/sh
# `make bench`: bench/rr-bench.sh on every KVM this machine offers -- the host's /dev/kvm when it
# has one, and always the nested kvm_amd under QEMU TCG (tests/nested/run.sh) -- one section each,
# written to bench/RESULTS.md. Benchmarks never fail the build on a number; only a harness that
# could not run is an error.
#
# usage: VMM=/abs/vmm KVMLOOP=/abs/kvmloop bench/run.sh
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=bench/RESULTS.md
part=build/bench
mkdir -p $part
rm -f $part/host.md $part/nested.md $part/nested2.md $part/qemu-rr.md
status=0
# GNU time: the peak RSS column (bench/rr-bench.sh).
if [ ! -x /usr/bin/time ] && [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null 2>&1; then
	apt-get install -y -q time > /dev/null || echo "bench: no GNU time: no peak RSS figures" >&2
fi

rm -rf $part/journals-host $part/journals-nested
mkdir -p $part/journals-host $part/journals-nested
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	echo "bench: on the host's KVM" >&2
	{ BENCH_KEEP=$part/journals-host bench/rr-bench.sh && bench/qemu-bench.sh boot; } > $part/host.md || status=1
fi
echo "bench: in the nested kvm_amd (tests/nested/run.sh)" >&2
tests/nested/run.sh --timeout 2400 --sh "export VMM=$VMM KVMLOOP=$KVMLOOP BENCH_KEEP=$part/journals-nested; { sh bench/rr-bench.sh && sh bench/qemu-bench.sh boot; } > $part/nested.md" >&2 ||
	status=1
# The nested VM has one CPU (tests/nested/run.sh says why); the virtio-blk read once more with two,
# a short run, so that the journal writer's thread is measured where it has a CPU of its own.
echo "bench: virtio-blk in the nested kvm_amd with two CPUs" >&2
NESTED_CPUS=2 tests/nested/run.sh --timeout 900 --sh "export VMM=$VMM BENCH_ONLY=blk; sh bench/rr-bench.sh > $part/nested2.md" >&2 ||
	status=1
echo "bench: QEMU's record/replay under TCG, on this machine's host" >&2
keep=$part/journals-nested
[ -f $part/host.md ] && keep=$part/journals-host
{ bench/qemu-bench.sh tcg && VMM_JOURNALS=$keep bench/qemu-bench.sh rr; } > $part/qemu-rr.md || status=1

{
	echo "# vmm benchmarks"
	echo
	echo "Written by \`make bench\` (bench/run.sh): bench/rr-bench.sh on each KVM this machine has, one section"
	echo "each. Ratios compare figures of the same run. bench/results.png draws the headline tables"
	echo "(bench/plot.sh, from this file)."
	[ -r /dev/kvm ] || { echo; echo "This machine has no /dev/kvm of its own: only the nested kvm_amd ran."; }
	echo
	[ -f $part/host.md ] && cat $part/host.md
	[ -f $part/nested.md ] && cat $part/nested.md
	[ -f $part/nested2.md ] && cat $part/nested2.md
	echo "## QEMU under TCG: Linux to /init, and record/replay"
	echo
	cat $part/qemu-rr.md
} > $out
echo "bench: wrote $out" >&2
bench/plot.sh "$out" bench/results.png || echo "bench: no plot (see above)" >&2
exit $status
