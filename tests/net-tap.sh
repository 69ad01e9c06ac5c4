#!/bin/sh
# virtio-net over a TAP device, against the host's own network stack: the virtio_net guest sends
# an ARP request for 10.0.3.1 (the host's address on the TAP) and must get the kernel's reply,
# under run and under record; the recording must then replay identically with no TAP at all.
# Needs root (CAP_NET_ADMIN), /dev/net/tun and ip(8).
#
# usage: VMM=./vmm tests/net-tap.sh build/guests/virtio_net.elf
set -u
. "$(dirname "$0")/lib.sh"
VMM=${VMM:-./vmm}
elf=$1
tap=vmmtap$$
tmp=${TMPDIR:-/tmp}/vmm-tap.$$
passed=0 failed=0
if ! have_kvm; then
	no_kvm "TAP test"
fi
kvm_probe
tap=$(printf '%.15s' "$tap")
if ! ip tuntap add "$tap" mode tap 2>/dev/null; then
	echo "SKIPPED: TAP test: cannot create a TAP device (needs root, /dev/net/tun and ip); NOT RUN" >&2
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
mkdir -p "$tmp"
trap 'ip tuntap del "$tap" mode tap 2>/dev/null; rm -rf "$tmp"' EXIT
ip addr add 10.0.3.1/24 dev "$tap" && ip link set "$tap" up

ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; shift; for f in "$@"; do tail -n 6 "$f" | sed 's/^/    /'; done; }

timeout 60 "$VMM" run --serial "file:$tmp/run.out" --net "tap:$tap" --append arp "$elf" 2> "$tmp/run.err"
st=$?
if [ $st -eq 0 ] && grep -q '^arp reply from 10.0.3.1' "$tmp/run.out" && ! grep -q '^not ok' "$tmp/run.out"; then
	ok "run: the host kernel answered the guest's ARP request through tap:$tap"
else
	bad "run: status $st" "$tmp/run.out" "$tmp/run.err"
fi

timeout 60 "$VMM" record --force -o "$tmp/tap.vrr" --net "tap:$tap" --append arp "$elf" > "$tmp/rec.out" 2> "$tmp/rec.err"
st=$?
if [ $st -eq 0 ] && grep -q '^arp reply from 10.0.3.1' "$tmp/rec.out"; then
	ok "record: the reply arrived while recording"
else
	bad "record: status $st" "$tmp/rec.out" "$tmp/rec.err"
fi
# The TAP goes away first: replay must not need it.
ip tuntap del "$tap" mode tap
timeout 60 "$VMM" replay "$tmp/tap.vrr" > "$tmp/rep.out" 2> "$tmp/rep.err"
st=$?
if [ $st -eq 0 ] && cmp -s "$tmp/rec.out" "$tmp/rep.out" && grep -q 'final state matches' "$tmp/rep.err"; then
	ok "replay without the TAP: same output, final state matches"
else
	bad "replay: status $st" "$tmp/rep.err"
fi
summary "net-tap"
[ "$failed" -eq 0 ]
