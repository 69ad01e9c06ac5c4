#!/bin/sh
# The command line's promises: help, version, and one clear line plus the documented status
# for every kind of bad input. Needs no /dev/kvm except where a guest must start.
#
# usage: VMM=./vmm tests/cli.sh GUEST.elf
set -u
. "$(dirname "$0")/lib.sh"
VMM=${VMM:-./vmm}
NETPEER=${NETPEER:-build/release/netpeer}
guest=${1:?usage: cli.sh GUEST.elf}
tmp=${TMPDIR:-/tmp}/vmm-cli.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

expect() {	# expect NAME STATUS PATTERN -- ARGS...: status and a stderr line matching PATTERN
	name=$1 want=$2 pattern=$3
	shift 4
	"$VMM" "$@" > "$tmp/out" 2> "$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ] && grep -q -- "$pattern" "$tmp/err" "$tmp/out"; then
		passed=$((passed + 1)); echo "PASS $name"
	else
		failed=$((failed + 1)); echo "FAIL $name: status $got (want $want)"; cat "$tmp/err" | head -3
	fi
	if grep -qiE 'sanitizer|segmentation|core dumped' "$tmp/err"; then
		failed=$((failed + 1)); echo "FAIL $name: crashed"
	fi
}

printf 'not a kernel at all\n' > "$tmp/text"
head -c 4096 /dev/urandom > "$tmp/random"
: > "$tmp/empty"
mkdir "$tmp/dir"
dd if=/dev/zero of="$tmp/big" bs=1M count=0 seek=20 2>/dev/null

expect help 0 'usage: vmm COMMAND' -- --help
expect run-help 0 'exit status' -- run --help
expect help-cmd 0 'usage: vmm run' -- help run
expect version 0 '^vmm [0-9]' -- --version
expect no-args 2 'usage' --
expect unknown-command 2 "unknown command 'frobnicate'" -- frobnicate
expect probe-help 0 'usage: vmm probe' -- probe --help
expect probe-extra 2 "vmm probe: unexpected argument 'now'" -- probe now
expect unknown-option 2 'usage: vmm run' -- run --frobnicate "$guest"
expect snapshot-interval-word 2 "snapshot-interval 'often': not a number of seconds" -- replay --snapshot-interval often x.vrr
expect snapshot-interval-negative 2 "snapshot-interval '-1': not a number of seconds" -- replay --snapshot-interval -1 x.vrr
expect no-kernel 2 'exactly one KERNEL' -- run
expect two-kernels 2 'exactly one KERNEL' -- run "$guest" "$guest"
expect bad-memory 2 "memory 'lots'" -- run -m lots "$guest"
expect tiny-memory 2 "memory '1'" -- run -m 1 "$guest"
expect huge-memory 2 "memory '4G'" -- run -m 4G "$guest"
expect wrapping-memory 2 "memory '18014398509481985G'" -- run -m 18014398509481985G "$guest"
expect negative-memory 2 "memory '-1'" -- run -m -1 "$guest"
expect bad-serial 2 "serial takes stdio" -- run --serial tcp:1 "$guest"
expect bad-rtc 2 "rtc 'yesterday'" -- run --rtc yesterday "$guest"
expect defer-no-unit 2 "defer '5': give 0, or a number with ns, us, ms or s" -- run --defer 5 "$guest"
expect defer-negative 2 "defer '-1ms'" -- record --defer -1ms -o "$tmp/j" "$guest"
expect defer-huge 2 "defer '11s'" -- run --defer 11s "$guest"
expect defer-help 0 'defer TIME' -- run --help
expect gdb-record 2 'gdb is for vmm run only' -- record --gdb 1234 -o "$tmp/j" "$guest"
expect missing-kernel 116 "cannot open '$tmp/nope'" -- run "$tmp/nope"
expect directory-kernel 116 'not a regular file' -- run "$tmp/dir"
expect missing-initrd 116 "initrd: cannot open" -- run --initrd "$tmp/nope" "$guest"
expect too-large 116 'larger than guest memory' -- run -m 16 "$tmp/big"
expect serial-dir 2 'cannot open serial output' -- run --serial "file:$tmp/dir" "$guest"
kvm_probe
if have_kvm; then
	expect probe 0 '^single-step: yes' -- probe
	expect text-file 116 'not a kernel' -- run "$tmp/text"
	expect random-file 116 'not a kernel' -- run "$tmp/random"
	expect empty-file 116 'not a kernel' -- run "$tmp/empty"
	expect cmdline-too-long 116 'command line is' -- run --append "$(head -c 70000 /dev/zero | tr '\0' x)" "$guest"
	expect options-after-kernel 42 'stopping the machine' -- run "$guest" --serial stdio -m 64
	expect missing-disk 116 "disk '$tmp/nope': No such file" -- run --disk "$tmp/nope" "$guest"
	expect disk-no-path 2 'disk needs PATH' -- run --disk ,ro "$guest"
	expect empty-disk 116 'not a raw image of at least 512 bytes' -- run --disk "$tmp/empty" "$guest"
	expect directory-disk 116 "disk '$tmp/dir'" -- run --disk "$tmp/dir" "$guest"
	expect rng-and-disk 42 'stopping the machine' -- run --rng --disk "$tmp/big,ro" "$guest"
	# A second vmm on an image that one is writing is refused: no two writers, no lost data.
	flock -x "$tmp/big" sleep 5 &
	sleep 0.5
	expect disk-in-use 116 'in use by another process' -- run --disk "$tmp/big" "$guest"
	wait
	expect too-many-devices 2 'too many virtio devices' -- run --rng --rng --rng --rng --rng --rng --rng --rng --rng "$guest"
	expect two-consoles 116 'one virtio console at most' -- run --console --console "$guest"
	expect net-bad-backend 2 'want tap:NAME or udp:' -- run --net eth0 "$guest"
	expect net-multicast-mac 2 'a unicast address' -- run --net udp:0,mac=01:00:5e:00:00:01 "$guest"
	expect net-bad-mac 2 'a unicast address' -- run --net udp:0,mac=52:54:00:12:34 "$guest"
	expect net-bad-port 116 "net backend 'udp:99999': '99999': want \[HOST:\]PORT" -- run --net udp:99999 "$guest"
	expect net-bad-peer 116 "unknown option 'to=1'" -- run --net udp:0,to=1 "$guest"
	expect net-bad-host 116 "net backend 'udp:no.such.host.invalid:9'" -- run --net udp:no.such.host.invalid:9 "$guest"
	expect net-tap-name 116 'interface name of 1 to 15' -- run --net tap:a-name-far-too-long-for-linux "$guest"
	expect net-idle 42 'stopping the machine' -- run --net udp:0 --net udp:0,mac=02:00:00:00:00:01 "$guest"
	# A port in use by another program is refused, not shared.
	"$NETPEER" echo --lifetime 30 > "$tmp/peer.out" 2>&1 &
	peer=$!
	sleep 0.3
	expect net-port-in-use 116 'Address already in use' -- run --net "udp:$(sed -n 's/^port //p' "$tmp/peer.out")" "$guest"
	kill $peer
	expect bad-gdb-port 2 "give \[HOST:\]PORT or unix:PATH" -- run --gdb 99999 "$guest"
	expect bad-gdb-host 2 "is not an IPv4 address" -- run --gdb nohost:1234 "$guest"
	expect gdb-wait-alone 2 'gdb-wait needs --gdb' -- run --gdb-wait "$guest"

	# With --console, typed input goes to hvc0, and a recording of it replays with the same bytes.
	hvc=$(dirname "$guest")/virtio_console.elf
	printf 'ping' | "$VMM" record -o "$tmp/hvc.vrr" --console --append echo "$hvc" > "$tmp/hvc.rec" 2> "$tmp/err"
	"$VMM" replay "$tmp/hvc.vrr" > "$tmp/hvc.rep" 2>> "$tmp/err" < /dev/null
	if grep -q 'hvc0 got: ping' "$tmp/hvc.rec" && cmp -s "$tmp/hvc.rec" "$tmp/hvc.rep"; then
		passed=$((passed + 1)); echo "PASS hvc-input: typed bytes reach hvc0, and replay gives them again"
	else
		failed=$((failed + 1)); echo "FAIL hvc-input"; tail -n 5 "$tmp/hvc.rec" "$tmp/err"
	fi
	# The state a reverse-executing replay hands itself is checked like any input.
	export VMM_REPLAY_RESUME='goal=9 end=0 start=0 mute=0 events=1 fp=0 regs=zz reply=00 gdb=fd=1'
	expect resume-garbage 116 'not a state this vmm left' -- replay --gdb unix:$tmp/no.sock "$tmp/hvc.vrr"
	expect resume-without-gdb 116 'not a state this vmm left' -- replay "$tmp/hvc.vrr"
	unset VMM_REPLAY_RESUME
else
	failed=$((failed + 1))
	echo "FAIL every CLI check that starts a VM: /dev/kvm is missing or not accessible here (make test" \
	     "runs this suite in a nested kvm_amd when the host has none: tests/nested/run.sh)"
fi
summary "cli"
[ "$failed" -eq 0 ]
