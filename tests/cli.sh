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
expect journal-help 0 'usage: vmm journal dump' -- journal --help
expect help-journal 0 'vmm journal diff A B' -- help journal
expect journal-alone 2 'usage: vmm journal' -- journal
expect journal-bad-sub 2 "unknown subcommand 'show'" -- journal show "$tmp/text"
expect journal-from-dangling 2 'needs a record number' -- journal dump "$tmp/text" --from
expect journal-from-text 2 "give a whole number" -- journal dump "$tmp/text" --from ten
expect journal-unknown-opt 2 "unknown option '--to'" -- journal dump "$tmp/text" --to 3
expect journal-stat-opt 2 "unknown option '--from'" -- journal stat "$tmp/text" --from 3
expect journal-two-files 2 'takes one JOURNAL' -- journal stat "$tmp/text" "$tmp/random"
expect journal-diff-one 2 'usage: vmm journal diff A B' -- journal diff "$tmp/text"
expect journal-diff-bad 116 'offset 0' -- journal diff "$tmp/text" "$tmp/random"
# A journal with window exits that carry pages (asked for at a kick) agrees with itself.
expect journal-diff-itself 0 '^the journals agree' -- journal diff "$(dirname "$0")/fixtures/landmarks-windows.vrr" \
	"$(dirname "$0")/fixtures/landmarks-windows.vrr"
expect help-unknown 2 "no command 'frobnicate'" -- help frobnicate
expect no-args 2 'usage' --
expect unknown-command 2 "unknown command 'frobnicate'" -- frobnicate
expect probe-help 0 'usage: vmm probe' -- probe --help
expect option-needs-value 2 "vmm run: option '--memory' needs a value" -- run --memory
expect option-takes-no-value 2 "vmm record: option '--fsync' takes no value" -- record --fsync=yes "$guest"
expect option-short-unknown 2 "vmm replay: unknown option '-x'" -- replay -x j.vrr
expect option-other-command 2 "vmm run: unknown option '--output'" -- run --output j.vrr "$guest"

# --help and the parsers come from one table per command: every option a --help names is one its
# command's parser knows, and every option the README gives vmm is in some --help.
help_opts() {	# help_opts CMD: the --options CMD's --help lists (its option lines)
	"$VMM" $1 --help 2>&1 | grep -oE -- '^ +(-[a-zA-Z], )?--[a-z][a-z0-9-]*' | grep -o -- '--[a-z0-9-]*' | sort -u
}
unknown=
for cmd in run record replay hunt "journal dump" "journal pack" "journal unpack"; do
	case $cmd in
	journal*) opts=$("$VMM" journal --help | grep "vmm $cmd " -A1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u) ;;
	*) opts=$(help_opts "$cmd") ;;
	esac
	for o in $opts; do
		# shellcheck disable=SC2086 # cmd is two words for journal subcommands
		"$VMM" $cmd "$o" < /dev/null > "$tmp/out" 2>&1
		grep -q "unknown option" "$tmp/out" && unknown="$unknown $cmd:$o"
	done
done
if [ -z "$unknown" ]; then
	passed=$((passed + 1)); echo "PASS help-options: every option in every --help is one its parser takes"
else
	failed=$((failed + 1)); echo "FAIL help-options: named in --help, refused as unknown:$unknown"
fi
all_help=$(for cmd in run record replay hunt probe journal "" ; do "$VMM" $cmd --help 2>&1; done |
	grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
readme=$(dirname "$0")/../README.md
missing=
# --sh, --timeout: tests/nested/run.sh's; --linux: tests/readme.sh's; --sshlogin: GNU parallel's,
# in the hunt section.
for o in $(grep -o -- '--[a-z][a-z0-9-]*' "$readme" | sort -u); do
	case $o in --sh|--timeout|--linux|--sshlogin) continue ;; esac
	printf '%s\n' "$all_help" | grep -qx -- "$o" || missing="$missing $o"
done
if [ -z "$missing" ]; then
	passed=$((passed + 1)); echo "PASS readme-options: every option the README names is in a --help"
else
	failed=$((failed + 1)); echo "FAIL readme-options: in README.md, in no --help:$missing"
fi
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

	# The gdb listener: SIGTERM ends a wait for gdb (and removes the socket file); a stray
	# connection, closed at once or silent, does not use up the port: gdb still gets in after it.
	"$VMM" run --gdb "unix:$tmp/w.sock" --gdb-wait "$guest" > /dev/null 2> "$tmp/err" &
	v=$!
	for _ in $(seq 50); do [ -S "$tmp/w.sock" ] && break; sleep 0.1; done
	kill -TERM $v
	wait $v
	st=$?
	if [ $st -eq 143 ] && [ ! -e "$tmp/w.sock" ]; then
		passed=$((passed + 1)); echo "PASS gdb-wait-sigterm: status 143, socket file removed"
	else
		failed=$((failed + 1)); echo "FAIL gdb-wait-sigterm: status $st, socket $(ls "$tmp/w.sock" 2>&1)"
		head -n 3 "$tmp/err"
	fi
	if command -v busybox > /dev/null && command -v gdb > /dev/null; then
		port=$((20000 + $$ % 20000))
		"$VMM" run --gdb "127.0.0.1:$port" --gdb-wait "$guest" > /dev/null 2> "$tmp/err" &
		v=$!
		for _ in $(seq 50); do grep -q 'waiting for gdb' "$tmp/err" && break; sleep 0.1; done
		busybox nc 127.0.0.1 "$port" < /dev/null > /dev/null 2>&1	# connects and hangs up
		sleep 12 | busybox nc 127.0.0.1 "$port" > /dev/null 2>&1 &	# connects and says nothing
		silent=$!
		sleep 0.5
		timeout -k 5 60 gdb -batch -nx -ex 'set remotetimeout 30' -ex "target remote 127.0.0.1:$port" \
			-ex detach > "$tmp/gdb.out" 2>&1
		wait $v
		st=$?
		kill $silent 2> /dev/null
		if [ $st -eq 42 ] && grep -q 'closed without a word' "$tmp/err" &&
		   grep -q 'sent nothing in 10 s' "$tmp/err" && grep -q 'Remote target) detached' "$tmp/gdb.out"; then
			passed=$((passed + 1)); echo "PASS gdb-stray-connections: a hang-up and a silent client, then gdb attached (status 42)"
		else
			failed=$((failed + 1)); echo "FAIL gdb-stray-connections: status $st"
			tail -n 3 "$tmp/err" "$tmp/gdb.out"
		fi
	else
		failed=$((failed + 1)); echo "FAIL gdb-stray-connections: needs busybox and gdb (tools/install-deps.sh)"
	fi

	# With --console, typed input goes to hvc0, and a recording of it replays with the same bytes.
	hvc=$(dirname "$guest")/virtio_console.elf
	printf 'ping' | "$VMM" record -o "$tmp/hvc.vrr" --console --append echo "$hvc" > "$tmp/hvc.rec" 2> "$tmp/err"
	"$VMM" replay "$tmp/hvc.vrr" > "$tmp/hvc.rep" 2>> "$tmp/err" < /dev/null
	if grep -q 'hvc0 got: ping' "$tmp/hvc.rec" && cmp -s "$tmp/hvc.rec" "$tmp/hvc.rep"; then
		passed=$((passed + 1)); echo "PASS hvc-input: typed bytes reach hvc0, and replay gives them again"
	else
		failed=$((failed + 1)); echo "FAIL hvc-input"; tail -n 5 "$tmp/hvc.rec" "$tmp/err"
	fi
	# --goto without gdb: stop at that event and show where; 'end' is a whole replay.
	expect replay-goto 0 '^replay: stopped at event 5 (--goto)' -- replay --serial none --goto 5 "$tmp/hvc.vrr"
	expect replay-goto-regs 0 '^  rip ' -- replay --serial none --goto 5 "$tmp/hvc.vrr"
	expect replay-goto-end 0 'final state matches' -- replay --serial none --goto end "$tmp/hvc.vrr"
	expect replay-goto-bad 2 "give an event number or 'end'" -- replay --goto later "$tmp/hvc.vrr"
	# A status line on a terminal (a pty from script(1)) when the guest's output goes elsewhere,
	# none with --quiet.
	if command -v script > /dev/null; then
		script -qec "$VMM record --force --serial none -o $tmp/pty.vrr $guest" /dev/null > "$tmp/pty.rec" 2>&1
		script -qec "$VMM record --force --quiet --serial none -o $tmp/pty.vrr $guest" /dev/null > "$tmp/pty.q" 2>&1
		script -qec "$VMM replay --serial none $tmp/pty.vrr" /dev/null > "$tmp/pty.rep" 2>&1
		if grep -q 'record: guest time [0-9.]* s, [0-9]* events' "$tmp/pty.rec" &&
		   grep -q 'replay: [0-9]*% of the journal, [0-9]* events' "$tmp/pty.rep" &&
		   ! grep -q 'record: guest time' "$tmp/pty.q"; then
			passed=$((passed + 1)); echo "PASS progress: record and replay show a status line on a terminal, --quiet none"
		else
			failed=$((failed + 1)); echo "FAIL progress"; tail -c 300 "$tmp/pty.rec" "$tmp/pty.rep" "$tmp/pty.q"
		fi
	else
		failed=$((failed + 1)); echo "FAIL progress: script(1) is missing (bsdutils)"
	fi
	# The sandbox: on by default (seccomp mode 2 while a guest runs); a system call vmm never makes,
	# called from the port-write path by a test hook, stops vmm with a message naming it; without
	# the filter the same call is made (and fails, ENOENT) and the guest runs to its end.
	race=$(dirname "$guest")/race.elf
	spin=$(dirname "$guest")/spin.elf
	"$VMM" run --serial none "$spin" 2> /dev/null &
	v=$!
	sleep 1
	mode=$(sed -n 's/^Seccomp:[[:space:]]*//p' /proc/$v/status 2>/dev/null)
	kill -TERM $v; wait $v
	if [ "$mode" = 2 ]; then
		passed=$((passed + 1)); echo "PASS sandbox-on: a running vmm is under a seccomp filter (mode $mode)"
	else
		failed=$((failed + 1)); echo "FAIL sandbox-on: Seccomp mode '$mode'"
	fi
	export VMM_TEST_FORBIDDEN_SYSCALL=1
	expect sandbox-stops-execve 116 'sandbox: system call execve (59)' -- run --serial none "$race"
	expect sandbox-off 0 'race: ' -- run --no-sandbox "$race"
	unset VMM_TEST_FORBIDDEN_SYSCALL
	# The state a reverse-executing replay hands itself is checked like any input.
	export VMM_REPLAY_RESUME='goal=9 end=0 start=0 mute=0 events=1 fp=0 regs=zz reply=00 gdb=fd=1'
	expect resume-garbage 116 'not a state this vmm left' -- replay --gdb unix:$tmp/no.sock "$tmp/hvc.vrr"
	expect resume-without-gdb 116 'not a state this vmm left' -- replay "$tmp/hvc.vrr"
	unset VMM_REPLAY_RESUME
	# Every command line a --help shows, run as written: the bracketed parts left out and each
	# placeholder given a real file. None may be a usage error (2) or a vmm error (116).
	syn=$tmp/syn
	mkdir -p "$syn"
	kern=$(realpath "$guest")
	vmm=$(realpath "$VMM")
	"$vmm" record -o "$syn/j.vrr" --serial none "$kern" 2> /dev/null
	"$vmm" journal pack "$syn/j.vrr" -o "$syn/p.vrr" 2> /dev/null
	for c in "" run record replay hunt journal probe help; do "$vmm" $c --help 2>&1; done |
		sed -n 's/^usage: *//p; s/^ *\(vmm .*\)/\1/p' | sed 's/ *\[[^]]*\]//g; s/ | / ;/g' |
		tr ';' '\n' | sed 's/^ *//; s/^--/vmm --/' | sort -u > "$syn/lines"
	n=0 bad=
	while read -r line; do
		cmd=$(printf '%s\n' "${line#vmm }" | sed "s|COMMAND|probe|; s|RECORD-ARGS\\.\\.\\. ||; s|KERNEL|$kern|;
			s|JOURNAL|$syn/j.vrr|; s|PACKED|$syn/p.vrr|; s|A B|$syn/j.vrr $syn/j.vrr|")
		# shellcheck disable=SC2086
		(cd "$syn" && timeout -k 5 120 "$vmm" $cmd < /dev/null > "$syn/out" 2>&1)
		st=$?
		n=$((n + 1))
		if [ $st -eq 2 ] || [ $st -eq 116 ] || [ $st -eq 124 ] || grep -qiE 'sanitizer|segmentation' "$syn/out"; then
			bad="$bad; vmm $cmd: status $st: $(head -n 1 "$syn/out" | cut -c1-100)"
		fi
	done < "$syn/lines"
	if [ "$n" -ge 12 ] && [ -z "$bad" ]; then
		passed=$((passed + 1)); echo "PASS help-synopses: the $n command lines the --help texts show all run"
	else
		failed=$((failed + 1)); echo "FAIL help-synopses: $n command lines$bad"
	fi
	# The README's Quick start: `make demo` boots the demo guest on this KVM, as a user types it.
	if [ -f Makefile ] && make -s demo > "$tmp/demo.out" 2>&1 &&
	   grep -q '^Hello from a vmm guest' "$tmp/demo.out" && grep -q '^Bye: exiting' "$tmp/demo.out"; then
		passed=$((passed + 1)); echo "PASS make-demo: the Quick start's demo boots and says goodbye"
	else
		failed=$((failed + 1)); echo "FAIL make-demo:"; tail -n 5 "$tmp/demo.out"
	fi
else
	failed=$((failed + 1))
	echo "FAIL every CLI check that starts a VM: /dev/kvm is missing or not accessible here (make test" \
	     "runs this suite in a nested kvm_amd when the host has none: tests/nested/run.sh)"
fi
summary "cli"
[ "$failed" -eq 0 ]
