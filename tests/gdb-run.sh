#!/bin/sh
# Real gdb, in batch mode, against a guest under `vmm run --gdb --gdb-wait`: a hardware
# breakpoint on a function, a variable and an argument read, a variable written, a write
# watchpoint that stops on the right line with old and new values, stepi, continue to exit;
# read and access watchpoints live and replayed (also backwards), one on code refused,
# Ctrl-C reaching a guest that never exits, six software breakpoints (int3), live and
# replayed, with gdb's reads of the code under them returning the guest's bytes, and a step
# over a device register write that ends on the next instruction.
# Then the same guest recorded and debugged under `vmm replay --gdb`: paused before the first
# event, the same stops with the recorded values, monitor when, writes refused, the end of the
# recording as a stop; then backwards: reverse-continue to the last write of a watched variable
# on the right line with the right value, reverse-stepi then stepi back to the same place,
# reverse-continue to earlier breakpoint hits, forward to the end again, and a replay that
# still ends with the recorded status and final state, having printed its output once.
#
# usage: VMM=./vmm tests/gdb-run.sh build/guests/gdb_target.elf
set -u
. "$(dirname "$0")/lib.sh"
VMM=${VMM:-./vmm}
elf=${1:?usage: gdb-run.sh GUEST.elf}
syms=${elf%.elf}.elf64
tmp=${TMPDIR:-/tmp}/vmm-gdb.$$
passed=0 failed=0
if ! have_kvm; then
	no_kvm "gdb tests"
fi
kvm_probe
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

check() {	# check NAME PATTERN: the gdb transcript has PATTERN
	if grep -q -- "$2" "$tmp/gdb.out"; then
		passed=$((passed + 1)); echo "PASS $1"
	else
		fail_check "$1: no '$2' in gdb's output"
	fi
}

start_vmm() {	# start_vmm NAME COMMAND ARGS...: vmm COMMAND with gdb on $tmp/NAME.sock, errors in $tmp/NAME.err; $vmm is its pid
	sock=$tmp/$1.sock
	name=$1 command=$2
	shift 2
	# Bounded like gdb is: a vmm that outlives its gdb session is killed and says so (124, 137).
	timeout -k 10 400 "$VMM" "$command" --gdb "unix:$sock" "$@" 2> "$tmp/$name.err" &
	vmm=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$sock" ] && break; sleep 0.2; done
}

run_gdb() {	# run_gdb SYMBOLS GDB-ARGS...: gdb in batch mode on $sock, into $tmp/gdb.out; then vmm's $status
	syms_file=$1
	shift
	timeout 300 gdb -batch -nx -ex "target remote $sock" "$@" "$syms_file" > "$tmp/gdb.out" 2>&1
	wait $vmm
	status=$?
}

needs=hw_bp	# hbreak bump
start_vmm gdb run --serial "file:$tmp/console" --gdb-wait "$elf"
run_gdb "$syms" \
	-ex "hbreak bump" -ex "continue" -ex "print by" -ex "continue" -ex "print by" -ex "print counter" \
	-ex "delete" -ex "set var counter = 100" -ex "print counter" \
	-ex "watch result" -ex "continue" \
	-ex "info registers rip" -ex "stepi" -ex "info registers rip" -ex "x/2i \$pc" \
	-ex "delete" -ex "continue"

check connect "_start () at tests/guests/lib/entry.S"
# Where debug registers never fire (vmm probe), hbreak is a software breakpoint: the checks
# below hold on every KVM that has either.
check breakpoint "Breakpoint 1, bump (by=by@entry=1)"
check argument '\$1 = 1'
check second-hit "Breakpoint 1, bump (by=by@entry=2)"
check variable '\$3 = 1'
check write-memory '\$4 = 100'
check watchpoint "Old value = 0"
check watch-value "New value = 114"
check watch-line "main () at tests/guests/gdb_target.c:23"
check stepi "0x[0-9a-f]*	23	"
check exit "exited with code 0162"
if [ "$status" -eq 114 ] && grep -q 'result 114' "$tmp/console"; then
	passed=$((passed + 1)); echo "PASS guest-saw-the-write: vmm status 114, the guest printed 'result 114'"
else
	fail_check "guest-saw-the-write: vmm status $status"; tail -n 3 "$tmp/console" "$tmp/gdb.err"
fi
if [ "$failed" -gt 0 ]; then
	echo "--- gdb's output:"; cat "$tmp/gdb.out"
fi

# Under replay: the recorded run (status 15), debugged after the fact.
failed_before=$failed
timeout -k 10 120 "$VMM" record -o "$tmp/g.vrr" --serial none "$elf" 2> "$tmp/rec.err"
rec=$?
needs=hw_bp	# hbreak bump
start_vmm replay replay "$tmp/g.vrr" > "$tmp/replay.console"
run_gdb "$syms" -ex "monitor when" \
	-ex "hbreak bump" -ex "continue" -ex "continue" -ex "print by" -ex "print counter" -ex "monitor when" \
	-ex "delete" -ex "set var counter = 100" -ex "print counter" \
	-ex "continue" -ex "watch result" -ex "reverse-continue" -ex "print result" \
	-ex "info registers rip" -ex "reverse-stepi" -ex "info registers rip" -ex "stepi" -ex "info registers rip" \
	-ex "delete" -ex "hbreak bump" -ex "reverse-continue" -ex "reverse-continue" \
	-ex "delete" -ex "continue"
check replay-paused "_start () at tests/guests/lib/entry.S"
check replay-when-start "event 0 (exit 0"
check replay-breakpoint "Breakpoint 1, bump (by=by@entry=2)"
check replay-variable '\$2 = 1'
check replay-when-later "event [1-9][0-9]* (exit [1-9]"
check replay-read-only "Cannot access memory at address"
check replay-unchanged '\$3 = 1'
check replay-end "No more reverse-execution history"
# Backwards from the end to the write of result: gdb shows the value before it (0) and after (15).
check reverse-watch "Old value = 15"
check reverse-watch-value "New value = 0"
check reverse-watch-line "main () at tests/guests/gdb_target.c:22"
check reverse-watch-print '\$4 = 0'
# reverse-stepi then stepi: back where it was.
rips=$(sed -n 's/^rip  *\(0x[0-9a-f]*\) .*/\1/p' "$tmp/gdb.out")
set -- $rips
if [ $# -eq 3 ] && [ "$1" = "$3" ] && [ "$1" != "$2" ]; then
	passed=$((passed + 1)); echo "PASS reverse-stepi-stepi: $1 -> $2 -> $3"
else
	fail_check "reverse-stepi-stepi: rip values $rips"
fi
check reverse-breakpoint "Breakpoint 3, bump (by=by@entry=5)"
check reverse-breakpoint-again "Breakpoint 3, bump (by=by@entry=4)"
if [ "$(grep -c 'No more reverse-execution history' "$tmp/gdb.out")" -eq 2 ]; then
	passed=$((passed + 1)); echo "PASS forward-to-end-again"
else
	fail_check "forward-to-end-again: the end was not reached twice"
fi
# Going back re-executes; what the guest printed before comes out once.
if [ "$(grep -c 'result 15' "$tmp/replay.console")" -eq 1 ]; then
	passed=$((passed + 1)); echo "PASS output-once: the console shows 'result 15' once"
else
	fail_check "output-once: $(grep -c 'result 15' "$tmp/replay.console") times"
fi
if [ "$rec" -eq 15 ] && [ "$status" -eq 15 ] && grep -q 'final state matches' "$tmp/replay.err" &&
   grep -q "attach with:" "$tmp/replay.err"; then
	passed=$((passed + 1)); echo "PASS replay-undisturbed: recorded and replayed status 15, final state matches"
else
	fail_check "replay-undisturbed: record $rec, replay $status"; tail -n 4 "$tmp/replay.err"
fi
if [ "$failed" -gt "$failed_before" ]; then
	echo "--- gdb's output:"; cat "$tmp/gdb.out"
fi

# Read and access watchpoints, live and replayed: each stop names the value read or the change,
# on the source line of the access, and going back meets the same accesses in reverse order.
verdict() {	# verdict NAME DETAIL COMMAND...: passes when COMMAND succeeds
	name=$1 detail=$2
	shift 2
	if "$@"; then
		passed=$((passed + 1)); echo "PASS $name: $detail"
	else
		fail_check "$name: $detail"
	fi
}
stops() {	# the values and source lines gdb reported, in order, on one line
	grep -E '^(Value|Old value|New value) = |gdb_target\.c:[0-9]+$' "$tmp/gdb.out" |
		sed 's/.*gdb_target\.c:/line /' | tr '\n' ' '
}
failed_before=$failed
needs=	# watchpoints trap pages: every KVM
start_vmm watch run --serial none --gdb-wait "$elf"
run_gdb "$syms" \
	-ex "rwatch counter" -ex "continue" -ex "continue" -ex "delete" \
	-ex "awatch result" -ex "continue" -ex "continue" -ex "continue" -ex "delete" -ex "continue"
want="Value = 0 line 15 Value = 1 line 15 Old value = 0 New value = 15 line 23 Value = 15 line 23 Value = 15 line 24 "
got=$(stops)
verdict rwatch-awatch-run "$got" [ "$got" = "$want" ]
verdict rwatch-awatch-run-exit "vmm status $status" [ "$status" -eq 15 ]
# A watchpoint on the guest's own code: KVM cannot fetch instructions from a trapped page, so
# that watchpoint is dropped with a message, and the other one still stops.
needs=int3	# break main
start_vmm codewatch run --serial none --gdb-wait "$elf"
run_gdb "$syms" -ex "break main" -ex "continue" -ex "delete" \
	-ex "awatch *(int *)bump" -ex "watch result" -ex "continue" -ex "delete 2" -ex "continue"
verdict watch-code-page "told, the other watchpoint stopped, vmm status $status" sh -c \
	"grep -q 'KVM cannot emulate an instruction while watched pages are trapped' '$tmp/gdb.out' &&
	 grep -q 'New value = 15' '$tmp/gdb.out' && [ $status -eq 15 ]"
# Ctrl-C while the guest spins without exits (a jmp-to-self written over counter): gdb's
# interrupt kicks the vCPU out of KVM_RUN, and the guest stops in its loop.
needs=hw_bp	# hbreak bump
start_vmm intr run --serial none --gdb-wait "$elf"
run_gdb "$syms" -ex "hbreak bump" -ex "continue" -ex "delete" \
	-ex "set {unsigned short}&counter = 0xfeeb" -ex "set var \$pc = &counter" \
	-ex 'shell (sleep 2; kill -INT $PPID) &' -ex "continue" -ex "info registers rip" -ex "kill"
verdict ctrl-c-spinning "$(grep -m1 '^rip' "$tmp/gdb.out")" sh -c \
	"grep -q 'Program received signal SIGINT' '$tmp/gdb.out' && grep -q '^rip .*<counter>' '$tmp/gdb.out'"
needs=
start_vmm rwatch replay --serial none "$tmp/g.vrr"
run_gdb "$syms" \
	-ex "rwatch counter" -ex "continue" -ex "continue" -ex "delete" \
	-ex "awatch result" -ex "continue" -ex "continue" -ex "continue" -ex "continue" \
	-ex "reverse-continue" -ex "reverse-continue" -ex "reverse-continue" -ex "reverse-continue" \
	-ex "delete" -ex "continue"
# Backwards, each stop is just before the accessing instruction: line 24's read, line 23's read,
# then line 22's write (gdb shows it going back: 15 before, 0 after), then the start.
got=$(stops)
verdict rwatch-awatch-replay "$got" \
	[ "$got" = "${want}Value = 15 line 24 Value = 15 line 23 Old value = 15 New value = 0 line 22 " ]
verdict rwatch-awatch-replay-start "back at the start" grep -q "No more reverse-execution history" "$tmp/gdb.out"
verdict rwatch-awatch-replay-undisturbed "replay status $status" \
	sh -c "[ $status -eq 15 ] && grep -q 'final state matches' '$tmp/rwatch.err'"
if [ "$failed" -gt "$failed_before" ]; then
	echo "--- gdb's output:"; cat "$tmp/gdb.out"
fi

# Software breakpoints (`break`: an int3 that vmm puts in guest memory only while the guest runs):
# six of them, more than the four debug registers, kept inserted while stopped (always-inserted)
# so that gdb's reads of the code under them must return the guest's bytes; live, then replayed
# and backwards. Both end with the guest's own status, and the replay with the recorded state.
sw_session() {	# sw_session NAME COMMAND ARGS...: start_vmm's, then gdb sets the breakpoints and goes to the end
	start_vmm "$@"
	run_gdb "$syms" -ex "set breakpoint always-inserted on" \
		-ex "x/2xb bump" -ex "break bump" -ex "break main" -ex "break gdb_target.c:22" \
		-ex "break gdb_target.c:23" -ex "break gdb_target.c:24" -ex "break guest_exit" -ex "x/2xb bump" \
		-ex "continue" -ex "continue" -ex "continue" -ex "continue" -ex "continue" -ex "continue" \
		-ex "continue" -ex "continue" -ex "print result" $sw_back -ex "delete" -ex "continue"
}
sw_stops() {	# the breakpoints gdb reported, in order
	sed -n 's/^Breakpoint \([0-9]\), .*/\1/p' "$tmp/gdb.out" | tr '\n' ' '
}
sw_bytes() {	# the two reads of bump's first bytes: the same, and not an int3
	set -- $(grep '^0x[0-9a-f]* <bump>:' "$tmp/gdb.out" | cut -f2- | tr '\n' ' ')
	[ $# -eq 4 ] && [ "$1 $2" = "$3 $4" ] && [ "$1" != 0xcc ] && echo "$1 $2"
}
failed_before=$failed
needs=int3
sw_back=
sw_session swbreak-run run --serial none --gdb-wait "$elf"
got=$(sw_stops)
verdict swbreak-run-stops "$got" [ "$got" = "2 1 1 1 1 1 3 4 " ]
verdict swbreak-run-reads "$(sw_bytes)" sh -c "[ -n '$(sw_bytes)' ]"
verdict swbreak-run-exit "vmm status $status" sh -c "[ $status -eq 15 ] && grep -q '^\\\$1 = 15$' '$tmp/gdb.out'"
# Where an int3 would reach the guest, break plants a hlt, and vmm warns that the test guest's
# pages are user mode's too (a hlt there raises #GP).
if ! kvm_has int3; then
	needs=
	verdict swbreak-hlt-warns "$(grep -m1 'software breakpoint is a hlt' "$tmp/swbreak-run.err" | cut -c1-100)" \
		grep -q 'software breakpoint is a hlt, which raises #GP in user mode' "$tmp/swbreak-run.err"
	needs=int3
fi
sw_back='-ex reverse-continue -ex reverse-continue -ex reverse-continue'
sw_session swbreak-replay replay --serial none "$tmp/g.vrr"
got=$(sw_stops)
verdict swbreak-replay-stops "$got" [ "$got" = "2 1 1 1 1 1 3 4 3 1 1 " ]
verdict swbreak-replay-reads "$(sw_bytes)" sh -c "[ -n '$(sw_bytes)' ]"
verdict swbreak-replay-undisturbed "replay status $status" \
	sh -c "[ $status -eq 15 ] && grep -q 'final state matches' '$tmp/swbreak-replay.err'"
if [ "$failed" -gt "$failed_before" ]; then
	echo "--- gdb's output:"; cat "$tmp/gdb.out"
fi

# A step over a write to a device register (virtio's notify, an MMIO store in vdev_kick): KVM
# finishes such a write without the single-step trap it owes, so vmm must end the step itself,
# on the next instruction (vdev_kick's ret), live and replayed; then back onto the store (past
# the virtio completions journaled right after it), and forward again.
failed_before=$failed
rng=$(dirname "$elf")/virtio_rng.elf
mmio_session() {	# mmio_session NAME COMMAND ARGS...: three steps into vdev_kick, over its notify store
	start_vmm "$@"
	run_gdb "${rng%.elf}.elf64" -ex "hbreak vdev_kick" -ex "continue" -ex "delete" \
		-ex "stepi" -ex "stepi" -ex "stepi" -ex "x/i \$pc" $mmio_back -ex "kill"
}
mmio_pcs() {	# where gdb stood after each step: vdev_kick+N
	sed -n 's/^=> 0x[0-9a-f]* <\(vdev_kick+[0-9]*\)>:.*/\1/p' "$tmp/gdb.out" | tr '\n' ' '
}
kick_code=$(objdump -d "${rng%.elf}.elf64" | awk '/<vdev_kick>:/ {on = 1} on && /\tret/ {print prev; print; exit} {prev = $0}')
store=$(echo "$kick_code" | sed -n 1p | cut -d: -f1 | tr -d ' ')
ret=$(echo "$kick_code" | sed -n 2p | cut -d: -f1 | tr -d ' ')
kick=$(nm "${rng%.elf}.elf64" | sed -n 's/^0*\([0-9a-f]*\) T vdev_kick$/\1/p')
at_ret="vdev_kick+$((0x$ret - 0x$kick))"
at_store="vdev_kick+$((0x$store - 0x$kick))"
needs=hw_bp	# hbreak vdev_kick
mmio_back=
mmio_session mmio-run run --rng --serial none --gdb-wait "$rng"
got=$(mmio_pcs)
verdict step-mmio-run "$got (ret is $at_ret)" [ "$got" = "$at_ret " ]
timeout -k 10 120 "$VMM" record -o "$tmp/rng.vrr" --rng --serial none "$rng" 2> "$tmp/rng.rec.err" ||
	echo "NOTE: recording the rng guest for the step-mmio replay ended with status $? ($(tail -n 1 "$tmp/rng.rec.err"))"
mmio_back='-ex reverse-stepi -ex x/i$pc -ex stepi -ex x/i$pc'
mmio_session mmio-replay replay --serial none "$tmp/rng.vrr"
got=$(mmio_pcs)
set -- $got
verdict step-mmio-replay "$got (the store is $at_store, ret $at_ret)" [ "$got" = "$at_ret $at_store $at_ret " ]
if [ "$failed" -gt "$failed_before" ]; then
	echo "--- gdb's output:"; cat "$tmp/gdb.out"
fi

# Moving by monitor command in the same recording: goto an event forward, checkpoints at a
# boundary and at a breakpoint, restart to each (back, and forward from the start), goto back,
# past the end, and the help for an unknown command.
failed_before=$failed
needs=hw_bp	# hbreak bump
start_vmm mon replay --serial none "$tmp/g.vrr"
run_gdb "$syms" \
	-ex "monitor goto 3" -ex "maintenance flush register-cache" -ex "monitor when" -ex "monitor checkpoint" \
	-ex "hbreak bump" -ex "continue" -ex "monitor checkpoint" -ex "info registers rip" -ex "continue" \
	-ex "monitor restart 2" -ex "maintenance flush register-cache" -ex "info registers rip" -ex "print by" \
	-ex "monitor goto 1" -ex "monitor checkpoints" -ex "monitor restart 1" -ex "monitor restart" \
	-ex "monitor restart 9" -ex "monitor goto 99999" -ex "monitor frobnicate" \
	-ex "delete" -ex "continue"
check goto-forward "^event 3 (exit 3"
check checkpoint-boundary "^checkpoint 1 at event 3 "
check checkpoint-point "^checkpoint 2 at event [1-9][0-9]* "
rips=$(sed -n 's/^rip  *\(0x[0-9a-f]*\) .*/\1/p' "$tmp/gdb.out")
set -- $rips
if [ $# -eq 2 ] && [ "$1" = "$2" ] && grep -q 'Breakpoint 1, bump (by=by@entry=2)' "$tmp/gdb.out" &&
   grep -q '^\$1 = 1$' "$tmp/gdb.out" && grep -q '^checkpoint 2: event [1-9]' "$tmp/gdb.out"; then
	passed=$((passed + 1)); echo "PASS restart-to-point: back from bump(2) to checkpoint 2 in bump(1), rip $1"
else
	fail_check "restart-to-point: rip values $rips"
fi
check goto-back "^event 1 (exit 1"
check checkpoints-list "^2: event [1-9][0-9]*, rip 0x"
check restart-boundary "^checkpoint 1: event 3 (exit 3"
check restart-start "^event 0 (exit 0"
check restart-unknown "^no checkpoint 9: 2 set"
check goto-past-end "^the journal ends first: event 40 (exit 39,"
check monitor-help "replay: when (the position), goto EVENT"
if [ "$status" -eq 15 ] && grep -q 'final state matches' "$tmp/mon.err" && grep -q "No more reverse-execution history" "$tmp/gdb.out"; then
	passed=$((passed + 1)); echo "PASS monitor-moves-to-the-end: status 15, final state matches"
else
	fail_check "monitor-moves-to-the-end: status $status"; tail -n 4 "$tmp/mon.err"
fi
if [ "$failed" -gt "$failed_before" ]; then
	echo "--- gdb's output:"; cat "$tmp/gdb.out"
fi

# tools/vmm.gdb: the same moves as gdb commands that refresh gdb's registers themselves. Without
# the flush, rip after vmm-goto would still be the one gdb read at event 0.
failed_before=$failed
needs=
start_vmm helper replay --serial none "$tmp/g.vrr"
run_gdb "$syms" -ex "source $(dirname "$0")/../tools/vmm.gdb" -ex "info registers rip" \
	-ex "vmm-goto 20" -ex "vmm-when" -ex "info registers rip" -ex "vmm-checkpoint" -ex "vmm-restart" \
	-ex "vmm-when" -ex "info registers rip" -ex "vmm-restart 1" -ex "vmm-when" -ex "vmm-goto" -ex "kill"
check helper-goto "^event 20 (exit 20"
check helper-restart "^event 0 (exit 0"
check helper-restart-checkpoint "^checkpoint 1: event 20 (exit 20"
check helper-usage "^usage: vmm-goto EVENT"
rips=$(sed -n 's/^rip  *\(0x[0-9a-f]*\) .*/\1/p' "$tmp/gdb.out")
set -- $rips
if [ $# -eq 3 ] && [ "$1" != "$2" ] && [ "$1" = "$3" ]; then
	passed=$((passed + 1)); echo "PASS helper-registers: rip $1 at the start, $2 at event 20, $3 back at the start"
else
	fail_check "helper-registers: rip values $rips"
fi
if [ "$failed" -gt "$failed_before" ]; then
	echo "--- gdb's output:"; cat "$tmp/gdb.out"
fi

# --goto: gdb's session starts at event 20, not before the first one.
failed_before=$failed
needs=
start_vmm goto replay --serial none --goto 20 "$tmp/g.vrr"
run_gdb "$syms" -ex "monitor when" -ex "kill"
check goto-option "^event 20 (exit 20"
if [ "$failed" -gt "$failed_before" ]; then
	echo "--- gdb's output:"; cat "$tmp/gdb.out"; tail -n 3 "$tmp/goto.err"
fi

# Going back across landmarks (the landmarks guest: a timer tick every millisecond lands in busy
# loops): breakpoints in the interrupt handler, backwards to an earlier hit, steps both ways,
# and a replay that still finds every landmark to the end.
failed_before=$failed
lm=$(dirname "$elf")/landmarks.elf
needs=hw_bp	# hbreak isr_dispatch, and landmarks
timeout -k 10 120 "$VMM" record -o "$tmp/lm.vrr" --serial none "$lm" 2> "$tmp/lmrec.err"
start_vmm lm replay --serial none "$tmp/lm.vrr"
run_gdb "${lm%.elf}.elf64" \
	-ex "hbreak isr_dispatch" -ex "continue" -ex "continue" -ex "continue" -ex "monitor when" \
	-ex "reverse-continue" -ex "monitor when" -ex "stepi" -ex "stepi" -ex "info registers rip" \
	-ex "reverse-stepi" -ex "info registers rip" -ex "stepi" -ex "info registers rip" \
	-ex "delete" -ex "continue"
whens=$(sed -n 's/^event \([0-9]*\) .*/\1/p' "$tmp/gdb.out" | tr '\n' ' ')
set -- $whens
if [ $# -eq 2 ] && [ "$2" -lt "$1" ] && [ "$(grep -c 'Breakpoint 1, isr_dispatch' "$tmp/gdb.out")" -eq 4 ]; then
	passed=$((passed + 1)); echo "PASS landmarks-reverse-continue: from event $1 back to the hit at event $2"
else
	fail_check "landmarks-reverse-continue: events $whens"
fi
rips=$(sed -n 's/^rip  *\(0x[0-9a-f]*\) .*/\1/p' "$tmp/gdb.out")
set -- $rips
if [ $# -eq 3 ] && [ "$1" = "$3" ] && [ "$1" != "$2" ]; then
	passed=$((passed + 1)); echo "PASS landmarks-reverse-stepi-stepi: $1 -> $2 -> $3"
else
	fail_check "landmarks-reverse-stepi-stepi: rip values $rips"
fi
if [ "$status" -eq 0 ] && grep -q 'final state matches' "$tmp/lm.err" && grep -q "No more reverse-execution history" "$tmp/gdb.out"; then
	passed=$((passed + 1)); echo "PASS landmarks-to-the-end: $(grep '^replay:' "$tmp/lm.err" | cut -d, -f1-3)"
else
	fail_check "landmarks-to-the-end: status $status"; tail -n 4 "$tmp/lm.err"
fi
if [ "$failed" -gt "$failed_before" ]; then
	echo "--- gdb's output:"; cat "$tmp/gdb.out"
fi

# Snapshots (--snapshot-interval): going back starts from a fork()ed copy of the replay taken on
# the way, not from the start. The rtc guest (about 3 s of replaying) is debugged twice, with a
# snapshot every 0.1 s and with none: from its end back to the last report() both must land at the
# same event and rip, and the replay that went on from a snapshot must still end exactly as
# recorded. Then the landmarks guest, whose ticks land in busy loops, goes back from its end to the
# last tick's handler from a snapshot and replays from there to the end, finding every landmark.
failed_before=$failed
rtc=$(dirname "$elf")/rtc.elf
timeout -k 10 120 "$VMM" record -o "$tmp/rtc.vrr" --serial none "$rtc" 2> /dev/null
rtc_status=$?
snap_session() {	# snap_session NAME JOURNAL SYMBOLS INTERVAL FUNCTION [BREAK]: to the end, back to FUNCTION, to the end
	start_vmm "$1" replay --serial none --snapshot-interval "$4" "$2"
	timeout 300 gdb -batch -nx -ex "target remote $sock" -ex "continue" -ex "${6:-hbreak} $5" \
		-ex "reverse-continue" -ex "monitor when" -ex "info registers rip" -ex "monitor snapshots" \
		-ex "delete" -ex "continue" "$3" > "$tmp/$1.gdb" 2>&1
	wait $vmm
	echo $? > "$tmp/$1.status"
}
needs=hw_bp	# hbreak report (rtc-sw: break report), and landmarks
snap_session rtc-snap "$tmp/rtc.vrr" "${rtc%.elf}.elf64" 0.1 report
snap_session rtc-none "$tmp/rtc.vrr" "${rtc%.elf}.elf64" 0 report
snap_session rtc-sw "$tmp/rtc.vrr" "${rtc%.elf}.elf64" 0.1 report break
where_snap=$(grep -e '^event ' -e '^rip ' "$tmp/rtc-snap.gdb" | tr -s ' ' | tr '\n' ' ')
where_none=$(grep -e '^event ' -e '^rip ' "$tmp/rtc-none.gdb" | tr -s ' ' | tr '\n' ' ')
where_sw=$(grep -e '^event ' -e '^rip ' "$tmp/rtc-sw.gdb" | tr -s ' ' | tr '\n' ' ')
began=$(sed -n 's/.*this replay began at event \([0-9]*\)$/\1/p' "$tmp/rtc-snap.gdb")
count=$(sed -n 's/^\([0-9]*\) snapshots, .*/\1/p' "$tmp/rtc-snap.gdb")
if [ -n "$where_snap" ] && [ "$where_snap" = "$where_none" ] && grep -q 'Breakpoint 1, report' "$tmp/rtc-snap.gdb"; then
	passed=$((passed + 1)); echo "PASS snapshot-same-stop: $where_snap, with snapshots and without"
else
	fail_check "snapshot-same-stop: '$where_snap' with snapshots, '$where_none' without"
fi
if [ "${began:-0}" -gt 0 ] && [ "${count:-0}" -ge 2 ]; then
	passed=$((passed + 1)); echo "PASS snapshot-used: $count snapshots, the replay went on from the one at event $began"
else
	fail_check "snapshot-used: $count snapshots, began at event '$began'"
fi
# The same with a software breakpoint: each snapshot holds the guest's bytes, never an int3.
began_sw=$(sed -n 's/.*this replay began at event \([0-9]*\)$/\1/p' "$tmp/rtc-sw.gdb")
needs=int3
verdict snapshot-swbreak "$where_sw, from the snapshot at event '$began_sw'" sh -c \
	"[ '$where_sw' = '$where_none' ] && [ '${began_sw:-0}' -gt 0 ] && grep -q 'Breakpoint 1, report' '$tmp/rtc-sw.gdb'"
for s in snap none sw; do
	needs=hw_bp
	[ $s = sw ] && needs="hw_bp int3"
	if [ "$(cat "$tmp/rtc-$s.status")" -eq "$rtc_status" ] && grep -q 'final state matches' "$tmp/rtc-$s.err" &&
	   [ "$(grep -c 'No more reverse-execution history' "$tmp/rtc-$s.gdb")" -eq 2 ]; then
		passed=$((passed + 1)); echo "PASS snapshot-$s-to-the-end: status $rtc_status, final state matches"
	else
		fail_check "snapshot-$s-to-the-end: status $(cat "$tmp/rtc-$s.status")"
		tail -n 3 "$tmp/rtc-$s.err"
	fi
done
needs=hw_bp
snap_session lm-snap "$tmp/lm.vrr" "${lm%.elf}.elf64" 0.2 isr_dispatch
began=$(sed -n 's/.*this replay began at event \([0-9]*\)$/\1/p' "$tmp/lm-snap.gdb")
if [ "$(cat "$tmp/lm-snap.status")" -eq 0 ] && grep -q 'final state matches' "$tmp/lm-snap.err" &&
   grep -q 'Breakpoint 1, isr_dispatch' "$tmp/lm-snap.gdb" && [ "${began:-0}" -gt 0 ]; then
	passed=$((passed + 1)); echo "PASS snapshot-landmarks: back from the end from the snapshot at event $began," \
		"$(grep '^replay:' "$tmp/lm-snap.err" | cut -d, -f3)"
else
	fail_check "snapshot-landmarks: status $(cat "$tmp/lm-snap.status"), began at '$began'"
	tail -n 4 "$tmp/lm-snap.err"
fi
if [ "$failed" -gt "$failed_before" ]; then
	for f in rtc-snap rtc-none lm-snap; do echo "--- $f:"; cat "$tmp/$f.gdb" "$tmp/$f.err"; done
fi
summary "gdb"
[ "$failed" -eq 0 ]
