#!/bin/sh
# Catching an intermittent bug end to end: record --chaos exposes a race that plain recording
# hides, vmm hunt finds a failing run and keeps it with the last passing one, journal diff shows
# where they part, journal pack makes the failing run replay from another directory with nothing
# else, and the replay shows the bug again.
#
# usage: VMM=./vmm tests/hunt.sh build/guests/race.elf build/guests/exit42.elf
set -u
. "$(dirname "$0")/lib.sh"
VMM=${VMM:-./vmm}
race=$(realpath "${1:?usage: hunt.sh race.elf exit42.elf}")
exit42=$(realpath "${2:?usage: hunt.sh race.elf exit42.elf}")
tmp=$(realpath "${TMPDIR:-/tmp}")/vmm-hunt.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
have_kvm || no_kvm "hunt"
kvm_probe

pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# Plain recording carries ticks to the loop's exit, where the window never sees one. Only a
# tick the host had to kick in (a turn that outlasted --defer: a slow host, kvm_pvm's emulated
# kernel code, a stall the vCPU thread cannot see, such as the nested VM's own host taking its CPU)
# is placed inside the loop, so an update lost with no tick placed off an exit is a bug; one lost
# along with kicked ticks is the host's timing, said but not asserted.
lost=0 bad=0 kicked=0
for i in 1 2 3; do
	"$VMM" record --force --stats -o "$tmp/plain.vrr" --serial "file:$tmp/plain.out" "$race" 2> "$tmp/err"
	off=$(sed -n 's/^vmm: events placed: [0-9]* at exits, \([0-9]*\) at window exits, \([0-9]*\) at landmarks.*/\1 \2/p' "$tmp/err")
	set -- $off
	if ! grep -q 'race: no update lost' "$tmp/plain.out"; then
		lost=$((lost + 1))
		[ "${1:-0}" -eq 0 ] && [ "${2:-0}" -eq 0 ] && bad=$((bad + 1))
	fi
	kicked=$((kicked + ${1:-0} + ${2:-0}))
done
if [ $bad -ne 0 ]; then
	fail "plain-record: $bad of 3 plain recordings lost updates with every tick placed at an exit"
	cat "$tmp/plain.out" "$tmp/err"
elif [ $lost -eq 0 ]; then
	pass "plain-record: 3 recordings, no update lost ($kicked ticks placed off an exit)"
else
	pass "plain-record: $lost of 3 lost updates, each with ticks kicked in ($kicked) by a host slower than --defer (not asserted)"
fi

# A busy process on the vCPU's CPU (record pins the vCPU thread to the CPU it starts on): when it
# holds the CPU past --defer, the kick that follows finds the guest where the host stopped it, and
# the recorder waits for the guest's own time instead of taking a landmark there (README "Where
# events land"). Each run with the hog has stalls of milliseconds; up to three runs, one must say so.
waited=0 st=0
for i in 1 2 3; do
	taskset -c 0 sh -c 'while :; do :; done' &
	hog=$!
	taskset -c 0 "$VMM" record --force --stats -o "$tmp/hog.vrr" --serial none "$race" 2> "$tmp/err"
	st=$?
	kill $hog
	wait $hog 2>/dev/null
	waited=$(sed -n 's/.* kicks (\([0-9]*\) after a host stall, waited on).*/\1/p' "$tmp/err")
	[ $st -eq 0 ] && [ "${waited:-0}" -gt 0 ] && break
done
if [ $st -eq 0 ] && [ "${waited:-0}" -gt 0 ]; then
	pass "stall-wait: sharing its CPU with a busy process, $waited kicks waited out the host's stall ($(sed -n 's/^vmm: events placed: //p' "$tmp/err"))"
else
	fail "stall-wait: status $st, ${waited:-no} kicks waited on in 3 runs beside a busy process"
	tail -n 3 "$tmp/err"
fi

# The same seed twice: the journal header says it, stat shows it, and each replays exactly.
"$VMM" record --chaos=7 --stats -o "$tmp/c7.vrr" --serial "file:$tmp/c7.out" "$race" 2> "$tmp/c7.err"
st=$?
if [ $st -eq 0 ] && "$VMM" journal stat "$tmp/c7.vrr" | grep -q '^chaos: *seed 7 ' &&
   grep -q 'chaos seed 7' "$tmp/c7.err"; then
	pass "chaos-header: the seed is in the journal and in record's last line"
else
	fail "chaos-header: status $st"; tail -n 3 "$tmp/c7.err"
fi
expect_usage() {
	"$VMM" "$@" > "$tmp/out" 2> "$tmp/err"
	st=$?
	if [ $st -eq 2 ] && grep -q -- "$pattern" "$tmp/err"; then
		pass "$name"
	else
		fail "$name: status $st"; head -n 3 "$tmp/err"
	fi
}
name=chaos-bad-seed pattern="the seed is a number" expect_usage record --chaos=-1 "$race"
name=chaos-on-run pattern="--chaos is for vmm record" expect_usage run --chaos "$race"

# hunt: runs until the race shows, keeps that run and the last passing one.
"$VMM" hunt --runs 40 --jobs 2 --seed 1000 --keep "$tmp/h" --until-output 'updates lost' -- "$race" \
	> "$tmp/hunt.out" 2> "$tmp/hunt.err"
st=$?
hit=$(sed -n 's/^hunt: kept \(.*\.vrr\) (.*/\1/p' "$tmp/hunt.err")
pass_j=$(sed -n 's/^hunt: and the last passing run, \(.*\.vrr\)$/\1/p' "$tmp/hunt.err")
n=$(ls "$tmp/h" | grep -c '\.vrr$')
if [ $st -eq 0 ] && [ -f "$hit" ] && grep -q 'updates lost' "${hit%.vrr}.out" &&
   [ "$(basename "$hit")" = "fail-$(printf %016x "$(sed -n 's/.*(chaos seed \([0-9]*\)).*/\1/p' "$tmp/hunt.err")").vrr" ] &&
   { [ -z "$pass_j" ] || [ "${pass_j#"$tmp/h/pass-"}" != "$pass_j" ]; } &&
   [ "$n" -eq $((1 + $([ -n "$pass_j" ] && echo 1 || echo 0))) ]; then
	pass "hunt-finds: $(grep '^hunt: run' "$tmp/hunt.err"); $n journals kept"
else
	fail "hunt-finds: status $st, $n journals kept"; tail -n 5 "$tmp/hunt.err"
fi
seed=$(sed -n 's/^hunt: run [0-9]* (chaos seed \([0-9]*\)).*/\1/p' "$tmp/hunt.err")
if [ -n "$hit" ] && "$VMM" journal stat "$hit" | grep -q "^chaos: *seed $seed "; then
	pass "hunt-seed: the kept journal holds the seed the summary names ($seed)"
else
	fail "hunt-seed: summary names seed '$seed'"
fi

# diff: a passing and a failing run part ways somewhere.
if [ -n "$pass_j" ]; then
	"$VMM" journal diff "$pass_j" "$hit" > "$tmp/diff.out" 2>&1
	st=$?
	if [ $st -eq 1 ] && grep -q 'they part ways after' "$tmp/diff.out"; then
		pass "hunt-diff: the passing and the failing run differ ($(grep -m1 'they part ways' "$tmp/diff.out" | cut -c1-60)...)"
	else
		fail "hunt-diff: status $st"; head -n 5 "$tmp/diff.out"
	fi
else
	pass "hunt-diff: the first run failed, so there is no passing run to compare (not asserted)"
fi

# pack: replayable from an empty directory, where the recorded kernel path means nothing.
if [ -n "$hit" ] && "$VMM" journal pack "$hit" -o "$tmp/bug.vrr" > "$tmp/pack.out" 2>&1 &&
   "$VMM" journal unpack --list "$tmp/bug.vrr" | grep -q "^kernel *race.elf"; then
	pass "pack: $(cat "$tmp/pack.out")"
else
	fail "pack"; cat "$tmp/pack.out"
fi
mkdir "$tmp/elsewhere"
(cd "$tmp/elsewhere" && "$VMM" replay --serial "file:$tmp/replay.out" "$tmp/bug.vrr") > /dev/null 2> "$tmp/replay.err"
st=$?
if [ $st -eq 0 ] && grep -q 'final state matches' "$tmp/replay.err" && cmp -s "$tmp/replay.out" "${hit%.vrr}.out"; then
	pass "pack-replay: the packed failing run replays from an empty directory, the race shown again"
else
	marks=$("$VMM" journal stat "$tmp/bug.vrr" 2>/dev/null | sed -n 's/^  landmark *\([0-9]*\).*/\1/p')
	if [ "${marks:-0}" -gt 0 ] && ! kvm_has hw_bp; then
		xfail "pack-replay: replay of $marks landmarks" hw_bp
	else
		fail "pack-replay: status $st"; tail -n 4 "$tmp/replay.err"
	fi
fi
(cd "$tmp/elsewhere" && "$VMM" journal unpack "$tmp/bug.vrr" > /dev/null 2>&1)
if cmp -s "$tmp/elsewhere/race.elf" "$race" &&
   ! (cd "$tmp/elsewhere" && "$VMM" journal unpack "$tmp/bug.vrr" > /dev/null 2>&1); then
	pass "unpack: the kernel comes back byte for byte, and a second unpack does not overwrite it"
else
	fail "unpack"
fi
name=pack-twice pattern="already packed" expect_usage journal pack "$tmp/bug.vrr" -o "$tmp/bug2.vrr"
"$VMM" journal pack "$hit" -o "$tmp/bug.vrr" > /dev/null 2> "$tmp/err"
if [ $? -eq 116 ] && grep -q 'exists' "$tmp/err"; then
	pass "pack-no-overwrite: an existing output is refused"
else
	fail "pack-no-overwrite"
fi
"$VMM" journal pack --kernel "$exit42" "$hit" -o "$tmp/wrong.vrr" > /dev/null 2> "$tmp/err"
if [ $? -eq 116 ] && grep -q 'not the one recorded' "$tmp/err" && [ ! -e "$tmp/wrong.vrr" ]; then
	pass "pack-wrong-kernel: a kernel whose SHA-256 differs is refused"
else
	fail "pack-wrong-kernel"; cat "$tmp/err"
fi

# --until-status: the first run fails; a hunt for a status that never comes ends after --runs.
"$VMM" hunt -n 4 -j 2 --seed 1 --keep "$tmp/s" --until-status 42 -- "$exit42" > /dev/null 2> "$tmp/err"
st=$?
if [ $st -eq 0 ] && grep -q 'failed: exit status 42' "$tmp/err" && [ "$(ls "$tmp/s" | grep -c vrr)" -eq 1 ]; then
	pass "hunt-status: status 42 is found and kept"
else
	fail "hunt-status: status $st"; tail -n 3 "$tmp/err"
fi
"$VMM" hunt -n 3 -j 2 --keep "$tmp/none" --until-status 7 -- "$exit42" > /dev/null 2> "$tmp/err"
st=$?
if [ $st -eq 1 ] && grep -q 'no run failed in 3 runs' "$tmp/err" && [ ! -e "$tmp/none" ]; then
	pass "hunt-none: no run of 3 failed, status 1, nothing left behind"
else
	fail "hunt-none: status $st, $(ls "$tmp/none" 2>&1 | head -n 2)"; tail -n 3 "$tmp/err"
fi
# --until-timeout: a guest that never ends is stopped with SIGINT, its journal closed and kept.
spin=$(dirname "$race")/spin.elf
"$VMM" hunt -n 2 -j 1 --keep "$tmp/t" --until-timeout 2 -- "$spin" > /dev/null 2> "$tmp/err"
st=$?
kept=$(sed -n 's/^hunt: kept \(.*\.vrr\) (.*/\1/p' "$tmp/err")
if [ $st -eq 0 ] && grep -q 'still running after 2 s' "$tmp/err" && [ -f "$kept" ] &&
   "$VMM" journal stat "$kept" | grep -q '^ended: *vmm was stopped by signal'; then
	pass "hunt-timeout: a hang is stopped after 2 s and its journal ends cleanly"
else
	fail "hunt-timeout: status $st"; tail -n 3 "$tmp/err"; "$VMM" journal stat "$kept" 2>&1 | grep ended
fi
# A RECORD-ARGS mistake stops the hunt at once with vmm record's own message.
"$VMM" hunt -n 5 --keep "$tmp/bad" -- --memory lots "$exit42" > /dev/null 2> "$tmp/err"
st=$?
if [ $st -eq 2 ] && grep -q "memory 'lots'" "$tmp/err"; then
	pass "hunt-bad-args: vmm record's refusal ends the hunt (status 2)"
else
	fail "hunt-bad-args: status $st"; tail -n 3 "$tmp/err"
fi
summary "hunt"
[ "$failed" -eq 0 ]
