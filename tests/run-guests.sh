#!/bin/sh
# Runs test guests under vmm. A guest passes when vmm exits with the status its
# source declares ("vmm-test: exit=N", default 0) and its output has no "not ok".
# Optional in that line: args="..." (vmm options), pvm-args="..." (added on kvm_pvm hosts),
# term=SECONDS (send SIGTERM after that long; the guest is expected to be still running),
# disk=SECTORS (a patterned image as --disk), disk-check="SECTOR:TEXT" (the image holds TEXT there
# afterwards), net-peer=MODE (tools/netpeer MODE as the far end of --net udp:), output="TEXT"
# (the output must contain TEXT), stderr="TEXT" (vmm's messages must contain TEXT), needs=CAP (a
# KVM capability, tests/lib.sh: where the probe finds it lacking, a failure is an expected one).
#
# usage: VMM=./vmm tests/run-guests.sh build/guests/NAME.elf...
set -u
. "$(dirname "$0")/lib.sh"
VMM=${VMM:-./vmm}
out_dir=${TMPDIR:-/tmp}/vmm-guests.$$
passed=0 failed=0 checks=0
if ! have_kvm; then
	no_kvm "test guests"
fi
kvm_probe
mkdir -p "$out_dir"
trap 'rm -rf "$out_dir"' EXIT

for elf in "$@"; do
	name=$(basename "$elf" .elf)
	spec=$(guest_spec "$name")
	want=$(field exit "$spec"); want=${want:-0}
	args="$(guest_args "$spec") $(guest_disk "$name" "$spec" "$out_dir") $(guest_net "$name" "$spec" "$out_dir")"
	term=$(field term "$spec")
	limit="-k 10 120"
	[ -n "$term" ] && limit="-k 10 --preserve-status -s TERM $term"
	out=$out_dir/$name.out
	# shellcheck disable=SC2086 # args is a word list by design
	eval timeout $limit "$VMM" run --serial "file:$out" $args "$elf" 2> "$out_dir/$name.err"
	status=$?
	guest_net_stop "$name" "$out_dir"
	n=$(grep -c '^ok ' "$out" 2>/dev/null || true)
	checks=$((checks + n))
	text=$(field output "$spec")
	errtext=$(field stderr "$spec")
	if [ "$status" -eq "$want" ] && ! grep -q '^not ok' "$out" && disk_check "$name" "$spec" "$out_dir" &&
	   { [ -z "$text" ] || grep -q "$text" "$out"; } &&
	   { [ -z "$errtext" ] || grep -q "$errtext" "$out_dir/$name.err"; }; then
		passed=$((passed + 1))
		echo "PASS $name (exit $status, $n checks)"
	elif needs=$(field needs "$spec") && [ -n "$needs" ] && ! kvm_has "$needs"; then
		xfail "$name: exit status $status ($(grep -m1 '^not ok' "$out" | cut -c1-100))" "$needs"
	else
		failed=$((failed + 1))
		echo "FAIL $name: exit status $status, expected $want"
		grep '^not ok' "$out" | sed 's/^/    /'
		tail -n 5 "$out" "$out_dir/$name.err" | sed 's/^/    /'
	fi
done
echo "guests: $checks checks in all"
summary "guests"
[ "$failed" -eq 0 ]
