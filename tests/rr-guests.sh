#!/bin/sh
# Record and replay: every test guest is recorded once and replayed 3 times (once when a replay
# takes over 30 s, as hunting landmarks hit by hit does where debug registers do not fire); each replay must
# end with the recorded exit status, print the same console output byte for byte, and report
# "final state matches". The landmarks guest, whose output depends on where timer interrupts
# land, must also differ between two recordings. Then bad journals and a modified kernel.
#
# usage: VMM=./vmm [VMM_KEEP_FAILED=DIR] tests/rr-guests.sh build/guests/NAME.elf...
# (VMM_KEEP_FAILED: a journal whose replay fails is copied there, to look at afterwards)
set -u
. "$(dirname "$0")/lib.sh"
VMM=${VMM:-./vmm}
tmp=${TMPDIR:-/tmp}/vmm-rr.$$
passed=0 failed=0
if ! have_kvm; then
	no_kvm "record/replay tests"
fi
kvm_probe
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { fail_check "$1"; shift; for f in "$@"; do tail -n 6 "$f" | sed 's/^/    /'; done; }


jmp_self() {	# jmp_self ELF SYMBOL|0xADDR OUT: OUT is ELF with a 'jmp .' there; prints its file offset
	case $2 in
	0x*) addr=${2#0x} ;;
	*) addr=$(nm "$1" | sed -n "s/^\([0-9a-f]*\) [tT] $2\$/\1/p") ;;
	esac
	off=
	# shellcheck disable=SC2034
	while read -r type foff vaddr paddr fsz rest; do
		[ "$type" = LOAD ] && [ -n "$addr" ] && [ $((0x$addr)) -ge $((vaddr)) ] &&
			[ $((0x$addr)) -lt $((vaddr + fsz)) ] && off=$((0x$addr - vaddr + foff))
	done <<-EOF
	$(readelf -lW "$1")
	EOF
	cp "$1" "$3"
	[ -n "$off" ] && printf '\353\376' | dd of="$3" bs=1 seek="$off" conv=notrunc 2>/dev/null
	echo "$off"
}

record() {	# record NAME ELF JOURNAL: sets rec_status, output in $tmp/NAME.rec
	spec=$(guest_spec "$1")
	args="$(guest_args "$spec") $(guest_disk "$1" "$spec" "$tmp") $(guest_net "$1" "$spec" "$tmp")"
	term=$(field term "$spec")
	[ "$1" = placement ] && args="$args --stats"
	limit="-k 10 120"
	[ -n "$term" ] && limit="-k 10 --preserve-status -s TERM $term"
	# shellcheck disable=SC2086
	# --ioeventfd: where vmm has one host CPU (the nested kvm_amd's VM) the default is off.
	eval timeout $limit "$VMM" record --force ${RR_NOTIFY:---ioeventfd} -o "$3" $args "$2" > "$tmp/$1.rec" 2> "$tmp/$1.recerr"
	rec_status=$?
	guest_net_stop "$1" "$tmp"
}

for elf in "$@"; do
	name=$(basename "$elf" .elf)
	[ "$name" = virtio_blk ] && blk_elf=$elf
	[ "$name" = blk_read ] && blkread_elf=$elf
	j=$tmp/$name.vrr
	record "$name" "$elf" "$j"
	if [ "$rec_status" -eq 124 ] || [ "$rec_status" -eq 137 ]; then
		# Seen once in ~20 recordings on the nested kvm_amd: the guest stalls mid-run (an open
		# bug, named here rather than hidden). One more try, said out loud.
		echo "RETRY $name: the recording stalled ($(sed -n 's/^vmm: recorded \([0-9]*\) events.*/\1/p' \
			"$tmp/$name.recerr") events in 120 s); recording again"
		record "$name" "$elf" "$j"
	fi
	if [ "$rec_status" -eq 124 ] || [ "$rec_status" -eq 137 ]; then
		bad "$name: the recording did not end within its time limit (status $rec_status)" "$tmp/$name.recerr"
		continue
	fi
	if ! zstd -q -t "$j" 2>/dev/null; then
		bad "$name: the journal does not pass zstd -t" "$tmp/$name.recerr"
		continue
	fi
	# The tsc guest stores rdtsc values, which no exit reports: its replay must stop at a
	# checkpoint with a divergence report that names the likely cause, never end as if exact.
	if [ "$name" = tsc ]; then
		timeout -k 10 120 "$VMM" replay --serial none "$j" > /dev/null 2> "$tmp/$name.reperr"
		st=$?
		if [ $st -eq 115 ] && grep -q 'changed without an exit' "$tmp/$name.reperr" &&
		   grep -q 'rdtsc' "$tmp/$name.reperr"; then
			ok "tsc: replay diverges at $(grep -m1 'expected:' "$tmp/$name.reperr" | sed 's/.*expected: *//' | cut -d: -f1), naming rdtsc"
		else
			bad "tsc: replay of a TSC-reading guest: status $st" "$tmp/$name.reperr"
		fi
		continue
	fi
	good=yes
	disk_sum=
	[ -f "$tmp/$name.img" ] && disk_sum=$(md5sum < "$tmp/$name.img")
	replays=0
	for i in 1 2 3; do
		# A replay that hunts its landmarks hit by hit (HLTs planted where debug registers do not
		# fire) can take minutes: one such replay is the check, and the suite stays in its budget.
		if [ $i -gt 1 ] && [ "$took" -gt 30 ]; then
			echo "NOTE $name: replayed once: it took $took s on $(kvm_label) ($(grep '^replay:' "$tmp/$name.reperr" | cut -d'(' -f2 | cut -d')' -f1))"
			break
		fi
		t0=$(date +%s)
		timeout -k 10 300 "$VMM" replay "$j" > "$tmp/$name.rep" 2> "$tmp/$name.reperr"
		st=$?
		took=$(($(date +%s) - t0))
		replays=$i
		if [ "$st" -ne "$rec_status" ] || ! cmp -s "$tmp/$name.rec" "$tmp/$name.rep" ||
		   ! grep -q 'final state matches' "$tmp/$name.reperr"; then
			bad "$name: replay $i: status $st (recorded $rec_status), output $(cmp -s "$tmp/$name.rec" "$tmp/$name.rep" && echo same || echo differs)" "$tmp/$name.reperr"
			# Where it parted from the recording, and how the recording placed its events.
			grep -A 3 -e 'diverged' "$tmp/$name.reperr" | head -n 8 | sed 's/^/    /'
			"$VMM" journal stat "$j" 2>&1 | grep -e '^events:' -e '^landmarks:' | sed 's/^/    /'
			grep -e '^vmm: recorded' "$tmp/$name.recerr" | sed 's/^/    /'
			if [ -n "${VMM_KEEP_FAILED:-}" ]; then
				cp "$j" "$VMM_KEEP_FAILED/$name-failed.vrr" && echo "    kept: $VMM_KEEP_FAILED/$name-failed.vrr"
			fi
			good=no
			break
		fi
	done
	# Replay never writes a disk image: every byte the guest read is in the journal.
	if [ -n "$disk_sum" ] && [ "$(md5sum < "$tmp/$name.img")" != "$disk_sum" ]; then
		bad "$name: replay changed the disk image"
		good=no
	fi
	# journal stat tells how the run ended and how long recording took on the host.
	if ! "$VMM" journal stat "$j" > "$tmp/$name.stat" 2>&1 || ! grep -q '^ended: ' "$tmp/$name.stat" ||
	   ! grep -Eq '^host time: [0-9]+\.[0-9]+ s to record' "$tmp/$name.stat"; then
		bad "$name: journal stat lacks the end or the host time" "$tmp/$name.stat"
		good=no
	fi
	[ $good = yes ] && ok "$name: recorded (status $rec_status), $replays replays identical: $(grep '^replay:' "$tmp/$name.reperr" | cut -d, -f1-3)"
	# An exit the guest no longer makes (the instruction after main's first 'out' to port 0x80
	# made a 'jmp .' in kernel mode): replay reports the divergence once the wait is past
	# --patience (the recording took microseconds to that exit), never hangs.
	if [ "$name" = exits ]; then
		at=$(objdump -d --no-show-raw-insn "$elf" | awk '/<main>:/ { m = 1 }
			m && /out +%al,\$0x80/ { getline; sub(/:.*/, ""); gsub(/ /, ""); print "0x" $0; exit }')
		off=$(jmp_self "$elf" "${at:-none}" "$tmp/spin.elf")
		t0=$(date +%s)
		timeout -k 10 120 "$VMM" replay --serial none --force --patience 3 --kernel "$tmp/spin.elf" "$j" \
			> /dev/null 2> "$tmp/spin.err"
		st=$? secs=$(($(date +%s) - t0))
		if [ -n "$off" ] && [ $st -eq 115 ] && grep -q 'expected: *the exit ' "$tmp/spin.err" &&
		   grep -q 'actual: *no exit in [0-9]* s of running the guest (--patience 3' "$tmp/spin.err" &&
		   grep -q 'the guest was at rip 0x[0-9a-f]* in kernel mode' "$tmp/spin.err"; then
			ok "an exit never made: divergence reported in $secs s with --patience 3: $(grep -m1 'expected:' \
				"$tmp/spin.err" | sed 's/^ *expected: *//' | cut -c1-60)"
		else
			bad "an exit never made (${at:-no out in main} at file offset ${off:-not found}): status $st in $secs s" \
				"$tmp/spin.err"
		fi
	fi
	# Every placement path, as the journal counts them: ticks at the guest's exits, at window
	# exits (where window exits are exact), at landmarks; --defer 0 places none at a window.
	if [ "$name" = placement ]; then
		ev=$("$VMM" journal stat "$j" | sed -n 's/^events: *//p')
		at_exit=$(echo "$ev" | awk '{print $1 + 0}')
		at_window=$(echo "$ev" | awk '{print $5 + 0}')
		at_mark=$(echo "$ev" | awk '{print $9 + 0}')
		needs=window
		if [ "$at_exit" -gt 0 ] && [ "$at_mark" -gt 0 ] && [ "$at_window" -gt 0 ]; then
			ok "placement: the journal counts each path: $ev"
		else
			bad "placement: some path unused: $ev" "$tmp/$name.recerr"
		fi
		# The user-mode wait's tick: placed once two looks found its state unchanged.
		steady=$(sed -n 's/.* \([0-9]*\) user-mode waits found steady.*/\1/p' "$tmp/$name.recerr")
		if [ "${steady:-0}" -gt 0 ]; then
			ok "placement: a user-mode wait was found steady ($steady) and its landmark taken at once"
		else
			bad "placement: no user-mode wait found steady (--stats: '${steady:-no such line}')" "$tmp/$name.recerr"
		fi
		needs=
		# --defer 0: nothing is held back (a window exit may still come first, by chance of
		# timing); what the journal must say is that the recording was made so.
		timeout -k 10 120 "$VMM" record --force --defer 0 -o "$tmp/placement0.vrr" "$elf" > /dev/null 2>&1
		st=$?
		ev0=$("$VMM" journal stat "$tmp/placement0.vrr" | sed -n 's/^events: *//p')
		case $st:$ev0 in
		$rec_status:*" at landmarks (--defer 0 us)") ok "placement: --defer 0 is in the journal: $ev0" ;;
		*) bad "placement: --defer 0: status $st (the first recording's: $rec_status), $ev0" ;;
		esac
	fi
	if [ "$name" = landmarks ]; then
		cp "$tmp/landmarks.rec" "$tmp/landmarks-first.rec"
		record landmarks "$elf" "$tmp/landmarks2.vrr"
		if [ "$rec_status" -ne 0 ] || cmp -s "$tmp/landmarks-first.rec" "$tmp/landmarks.rec"; then
			grep '^not ok' "$tmp/landmarks.rec" | sed 's/^/    /'
			if [ "$rec_status" -ne 0 ]; then
				bad "landmarks: a second recording failed a check of its own (status $rec_status)" "$tmp/landmarks.rec"
			else
				bad "landmarks: a second recording gave identical output; tick positions should differ"
			fi
		else
			ok "landmarks: two recordings differ where their ticks landed"
		fi
		# journal diff names where they part ways (status 1); a journal against itself agrees (0).
		"$VMM" journal diff "$j" "$tmp/landmarks2.vrr" > "$tmp/diff.out" 2>&1
		st=$?
		"$VMM" journal diff "$j" "$j" > "$tmp/diff.same" 2>&1
		st_same=$?
		if [ $st -eq 1 ] && grep -q '^they part ways after [0-9]* events' "$tmp/diff.out" &&
		   grep -q '^  > ' "$tmp/diff.out" && [ $st_same -eq 0 ] && grep -q '^the journals agree' "$tmp/diff.same"; then
			ok "journal diff: $(grep -m1 '^they part ways' "$tmp/diff.out" | cut -c1-60); $(sed -n 4p "$tmp/diff.out" | cut -c1-70)"
		else
			bad "journal diff: status $st (itself: $st_same)" "$tmp/diff.out" "$tmp/diff.same"
		fi
		# A landmark the guest can no longer reach (its last user-mode phase made a 'jmp .' that
		# never exits): replay reports a divergence naming it within --patience, never hangs.
		off=$(jmp_self "$elf" user_scribbling "$tmp/stuck.elf")
		t0=$(date +%s)
		timeout -k 10 120 "$VMM" replay --serial none --force --patience 3 --kernel "$tmp/stuck.elf" "$j" \
			> /dev/null 2> "$tmp/stuck.err"
		st=$? secs=$(($(date +%s) - t0))
		if [ -n "$off" ] && [ $st -eq 115 ] && grep -q 'expected: *landmark at rip' "$tmp/stuck.err" &&
		   grep -qE '(not found|no breakpoint hit) in 3 s' "$tmp/stuck.err"; then
			ok "an unreachable landmark: divergence reported in $secs s with --patience 3: $(grep -m1 'actual:' \
				"$tmp/stuck.err" | sed 's/^ *actual: *//' | cut -c1-60)"
		else
			bad "an unreachable landmark (user_scribbling at file offset ${off:-not found}): status $st in $secs s" \
				"$tmp/stuck.err"
		fi
		# Without --patience, an interrupt (Ctrl-C) names what the replay was waiting for and where
		# the guest was instead: the landmark, or the interrupt-window exit (found as landmarks
		# are), whichever the recording placed there.
		timeout -k 10 -s INT 5 "$VMM" replay --serial none --force --kernel "$tmp/stuck.elf" "$j" \
			> /dev/null 2> "$tmp/stuck-int.err"
		st=$?
		if [ -n "$off" ] && grep -Eq 'replay interrupted after [0-9]+ events, waiting for the (landmark|irq-window exit) at rip' \
			"$tmp/stuck-int.err" && grep -q 'the guest was at rip 0x[0-9a-f]* in user mode' "$tmp/stuck-int.err"; then
			ok "an interrupted replay says what it waited for: $(grep -o 'waiting for.*' "$tmp/stuck-int.err" | cut -c1-90)"
		else
			bad "an interrupted replay of an unreachable landmark: status $st" "$tmp/stuck-int.err"
		fi
	fi
done

# virtio notifications: every recording above took them through ioeventfds, and journaled
# each where it was taken; without, the same guest's journal has none and still replays.
if [ -f "$tmp/virtio_blk.vrr" ]; then
	n_on=$("$VMM" journal dump "$tmp/virtio_blk.vrr" | grep -c ' notify ')
	cp "$tmp/virtio_blk.rec" "$tmp/virtio_blk-on.rec"
	RR_NOTIFY=--no-ioeventfd
	record virtio_blk "$blk_elf" "$tmp/blk-mmio.vrr"
	RR_NOTIFY=
	n_off=$("$VMM" journal dump "$tmp/blk-mmio.vrr" | grep -c ' notify ')
	timeout -k 10 120 "$VMM" replay "$tmp/blk-mmio.vrr" > "$tmp/blk-mmio.rep" 2> "$tmp/blk-mmio.reperr"
	st=$?
	if "$VMM" journal stat "$tmp/virtio_blk.vrr" | grep -q '(notifications by ioeventfd)' && [ "$n_on" -gt 0 ] &&
	   ! "$VMM" journal stat "$tmp/blk-mmio.vrr" | grep -q 'by ioeventfd' && [ "$n_off" -eq 0 ] &&
	   [ $st -eq "$rec_status" ] && grep -q 'final state matches' "$tmp/blk-mmio.reperr" &&
	   cmp -s "$tmp/blk-mmio.rep" "$tmp/virtio_blk.rec"; then
		ok "virtio_blk: $n_on notifications journaled from ioeventfds; --no-ioeventfd journals none and replays"
	else
		bad "virtio_blk: notify records $n_on (ioeventfd), $n_off (--no-ioeventfd); replay status $st" \
			"$tmp/blk-mmio.reperr"
	fi
fi

# A disk of random bytes, which zstd cannot shrink: the frames that carry it are stored as they
# are, not compressed (replay/journal_write.c); zstd reads them, checksums checked, and they replay.
if [ -n "${blkread_elf:-}" ]; then
	head -c 4M /dev/urandom > "$tmp/random.img"
	timeout -k 10 120 "$VMM" record --force --stats -o "$tmp/random.vrr" --disk "$tmp/random.img" --append random \
		"$blkread_elf" > "$tmp/random.rec" 2> "$tmp/random.recerr"
	st_rec=$?
	timeout -k 10 120 "$VMM" replay "$tmp/random.vrr" > "$tmp/random.rep" 2> "$tmp/random.reperr"
	st=$?
	stored=$(sed -n 's/.*; \([0-9]*\) frames stored as they were.*/\1/p' "$tmp/random.recerr")
	size=$(stat -c %s "$tmp/random.vrr")
	if [ "${stored:-0}" -gt 0 ] && [ "$size" -gt $((4 << 20)) ] && zstd -q -t "$tmp/random.vrr" &&
	   [ $st -eq $st_rec ] && grep -q 'final state matches' "$tmp/random.reperr" &&
	   cmp -s "$tmp/random.rep" "$tmp/random.rec"; then
		ok "blk_read of 4 MiB of random bytes: $stored frames stored uncompressed ($size bytes), zstd -t passes, replays"
	else
		bad "blk_read of random bytes: ${stored:-no} frames stored, $size bytes, record status $st_rec, replay $st" \
			"$tmp/random.recerr" "$tmp/random.reperr"
	fi
fi

# The end record as journal dump words it: exit42 ended by a debug exit (stop 1) with code 42.
if [ -f "$tmp/exit42.vrr" ]; then
	end=$("$VMM" journal dump "$tmp/exit42.vrr" | grep ' end ')
	case $end in
	*" stop=1 code=42"*) ok "journal dump: the end record says stop=1 code=42" ;;
	*) bad "journal dump: end record: $end" ;;
	esac
fi

# Two journals of the spin guest recorded on the nested kvm_amd (killed, so cut short), whose
# landmarks lie where a trap flag does not stop: right after an sti, and inside an interrupt
# handler that the hunt's own entry delivered. Single-stepping replays used to diverge at both;
# they must replay on every KVM. Their kernel is kept beside them (a build elsewhere differs in
# its debug information, so its SHA-256 would not match).
fx=$(cd "$(dirname "$0")" && pwd)/fixtures
for f in hunt-after-sti hunt-in-handler; do
	timeout -k 10 120 "$VMM" replay --serial none --kernel "$fx/hunt-spin.elf" "$fx/$f.vrr" \
		> "$tmp/$f.rep" 2> "$tmp/$f.err"
	st=$?
	if [ $st -eq 0 ] && grep -q 'cut short' "$tmp/$f.err"; then
		ok "$f: the recorded journal replays to its end: $(grep -m1 "^replay:" "$tmp/$f.err" | cut -c1-60)"
	elif [ -d /sys/module/kvm_pvm ] && grep -q 'diverged at event 4[78] ' "$tmp/$f.err" &&
	     grep -q 'closest differed in: memory written' "$tmp/$f.err"; then
		# The port exits match now (kvm_pvm reports them past the out, and both record and
		# replay put them at it); the first landmark after an interrupt returned (a window
		# exit, or a kick) does not: what kvm_pvm leaves in memory by then differs from what
		# the nested kvm_amd left. Journals do not yet move between those two KVMs: named.
		xfailed=$((${xfailed:-0} + 1))
		echo "XFAIL $f: recorded on the nested kvm_amd, it replays on kvm_pvm past its port exits, to the first landmark after an interrupt returned (event 47 or 48), where memory differs"
	else
		bad "$f: replay status $st" "$tmp/$f.err"
		grep -A 3 'diverged' "$tmp/$f.err" | head -n 4 | sed 's/^/    /'
	fi
done

# Checkpoints: the rtc guest runs 3 guest seconds, so its journal has checkpoints that every
# replay verified, an index, and a dump that starts from the index gives the same lines.
src=$tmp/rtc.vrr
if [ -f "$src" ]; then
	n=$("$VMM" journal stat "$src" | sed -n 's/^index: *\([0-9]*\) checkpoints.*/\1/p')
	"$VMM" journal dump "$src" > "$tmp/full.dump"
	last=$(grep ' checkpoint ' "$tmp/full.dump" | tail -n 1 | awk '{print $1}')
	from=$((${last:-0} + 3))
	"$VMM" journal dump "$src" --from "$from" --count 50 > "$tmp/part.dump"
	awk -v f="$from" '$1 >= f && $1 < f + 50' "$tmp/full.dump" > "$tmp/want.dump"
	# The checkpoints are verified by the replay of rtc, which needs what its landmarks need.
	marks=$(sed -n 's/.* \([0-9]*\) landmarks).*/\1/p' "$tmp/rtc.recerr")
	needs=
	[ "${marks:-0}" -gt 0 ] && needs=hw_bp
	if [ "${n:-0}" -ge 2 ] && grep -q "replay: .* $n checkpoints verified" "$tmp/rtc.reperr" &&
	   [ -s "$tmp/part.dump" ] && cmp -s "$tmp/want.dump" "$tmp/part.dump"; then
		ok "checkpoints: $n in the index, all verified by replay; dump --from $from via the index matches"
	else
		bad "checkpoints: index ${n:-none}, dump --from $from $(cmp -s "$tmp/want.dump" "$tmp/part.dump" && echo matches || echo differs)" "$tmp/rtc.reperr"
	fi
	needs=
fi

# Bad journals: one clear line naming an offset, never a crash, never a silent partial replay.
src=$tmp/pci.vrr
guest=build/guests/pci.elf
if [ -f "$src" ] && [ -f "$guest" ]; then
	size=$(stat -c %s "$src")
	expect_err() {	# NAME FILE PATTERN: vmm replay FILE fails with status 115/116 and PATTERN
		"$VMM" replay --serial none "$2" > /dev/null 2> "$tmp/err"
		st=$?
		if { [ $st -eq 116 ] || [ $st -eq 115 ]; } && grep -q -- "$3" "$tmp/err" &&
		   ! grep -qiE 'sanitizer|segmentation|core dumped' "$tmp/err"; then
			ok "$1: status $st: $(head -n 1 "$tmp/err" | cut -c1-110)"
		else
			bad "$1: status $st" "$tmp/err"
		fi
	}
	: > "$tmp/empty.vrr"
	expect_err "empty journal" "$tmp/empty.vrr" "offset 0"
	expect_err "foreign file" "$guest" "offset 0: expected a zstd skippable frame"
	head -c 20 "$src" > "$tmp/short.vrr"
	expect_err "header cut short" "$tmp/short.vrr" "offset 4"
	cp "$src" "$tmp/flip.vrr"
	printf '\377' | dd of="$tmp/flip.vrr" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	expect_err "bit-flipped frame" "$tmp/flip.vrr" "offset"
	cp "$src" "$tmp/hdr.vrr"
	printf 'X' | dd of="$tmp/hdr.vrr" bs=1 seek=9 conv=notrunc 2>/dev/null
	expect_err "damaged header" "$tmp/hdr.vrr" "offset 8"
	# The index frame (its size is the file's last u32) is optional: cut off, replay is whole.
	isz=$(tail -c 4 "$src" | od -An -tu4 | tr -d ' ')
	head -c $((size - 3)) "$src" > "$tmp/noidx.vrr"
	"$VMM" replay --serial none "$tmp/noidx.vrr" > /dev/null 2> "$tmp/err"
	st=$?
	if [ $st -eq 0 ] && grep -q 'final state matches' "$tmp/err"; then
		ok "index cut off: the journal still replays completely"
	else
		bad "index cut off: status $st" "$tmp/err"
	fi
	# A recorder killed mid-write leaves complete frames: replay says where it was cut.
	head -c $((size - isz - 7)) "$src" > "$tmp/cut.vrr"
	"$VMM" replay --serial none "$tmp/cut.vrr" > /dev/null 2> "$tmp/err"
	st=$?
	if grep -q 'cut short\|offset' "$tmp/err" && ! grep -qiE 'sanitizer|segmentation' "$tmp/err"; then
		ok "truncated journal: status $st: $(head -n 1 "$tmp/err" | cut -c1-110)"
	else
		bad "truncated journal: status $st" "$tmp/err"
	fi
	# A modified kernel is refused; with --force the divergence is reported.
	cp "$guest" "$tmp/modified.elf"
	off=$(grep -a -b -o 'CONFIG_ADDRESS reads back' "$tmp/modified.elf" | head -n 1 | cut -d: -f1)
	printf 'X' | dd of="$tmp/modified.elf" bs=1 seek="$off" conv=notrunc 2>/dev/null
	"$VMM" replay --serial none --kernel "$tmp/modified.elf" "$src" > /dev/null 2> "$tmp/err"
	st=$?
	if [ $st -eq 116 ] && grep -q 'is not the one recorded' "$tmp/err"; then
		ok "modified kernel refused: $(head -n 1 "$tmp/err" | cut -c1-100)"
	else
		bad "modified kernel: status $st" "$tmp/err"
	fi
	"$VMM" replay --serial none --force --kernel "$tmp/modified.elf" "$src" > /dev/null 2> "$tmp/err"
	st=$?
	if [ $st -eq 115 ] && grep -q 'replay diverged at event' "$tmp/err"; then
		ok "modified kernel with --force: divergence: $(grep -m1 'expected' "$tmp/err" | cut -c1-100)"
	else
		bad "modified kernel with --force: status $st" "$tmp/err"
	fi
	# The inputs' SHA-256s are remembered by file identity: a remembered digest is the one used, and
	# a kernel changed in place, its modification time set back, is hashed again and refused.
	cache=$tmp/cache
	cp "$guest" "$tmp/kept.elf"
	sleep 3	# older than HASHCACHE_SETTLE_S (replay/hashcache.h): only a settled file is remembered
	sum=$(sha256sum "$tmp/kept.elf" | cut -d' ' -f1)
	VMM_CACHE_DIR=$cache "$VMM" replay --serial none --kernel "$tmp/kept.elf" "$src" > /dev/null 2> "$tmp/err"
	st=$?
	if [ $st -eq 0 ] && grep -q " $sum\$" "$cache/input-sha256" 2>/dev/null; then
		ok "input hash cache: the kernel's SHA-256 remembered after a replay"
	else
		bad "input hash cache: status $st, no entry ending in $sum" "$tmp/err"
	fi
	sed "s/ $sum\$/ $(printf '%064d' 0)/" "$cache/input-sha256" > "$tmp/forged" 2>/dev/null &&
		cp "$tmp/forged" "$cache/input-sha256"
	VMM_CACHE_DIR=$cache "$VMM" replay --serial none --kernel "$tmp/kept.elf" "$src" > /dev/null 2> "$tmp/err"
	st=$?
	if [ $st -eq 116 ] && grep -q 'is not the one recorded' "$tmp/err"; then
		ok "input hash cache: a remembered digest is the one checked (a forged one is refused)"
	else
		bad "input hash cache: a forged entry: status $st" "$tmp/err"
	fi
	mtime=$(stat -c %Y "$tmp/kept.elf")
	off=$(grep -a -b -o 'CONFIG_ADDRESS reads back' "$tmp/kept.elf" | head -n 1 | cut -d: -f1)
	cp "$tmp/forged" "$cache/input-sha256"
	sed -i "s/ $(printf '%064d' 0)\$/ $sum/" "$cache/input-sha256"
	printf 'X' | dd of="$tmp/kept.elf" bs=1 seek="$off" conv=notrunc 2>/dev/null
	touch -d "@$mtime" "$tmp/kept.elf"
	VMM_CACHE_DIR=$cache "$VMM" replay --serial none --kernel "$tmp/kept.elf" "$src" > /dev/null 2> "$tmp/err"
	st=$?
	if [ $st -eq 116 ] && grep -q 'is not the one recorded' "$tmp/err" && [ "$(stat -c %Y "$tmp/kept.elf")" = "$mtime" ]; then
		ok "input hash cache: a kernel changed in place, same size and mtime, is hashed again and refused"
	else
		bad "input hash cache: a kernel changed in place: status $st" "$tmp/err"
	fi
	# A byte the guest loads but never reads (the message of an exception that never comes): every
	# exit matches, so only the final state digest, which hashes every page the process touched,
	# can tell; --verify makes that a failure.
	cp "$guest" "$tmp/quiet.elf"
	off=$(grep -a -b -o 'unexpected exception' "$tmp/quiet.elf" | head -n 1 | cut -d: -f1)
	printf 'U' | dd of="$tmp/quiet.elf" bs=1 seek="$off" conv=notrunc 2>/dev/null
	"$VMM" replay --serial none --force --verify --kernel "$tmp/quiet.elf" "$src" > /dev/null 2> "$tmp/err"
	st=$?
	if [ -n "$off" ] && [ $st -eq 115 ] && grep -q 'final state DIFFERS' "$tmp/err"; then
		ok "a loaded byte nothing reads: every exit matched, the final state digest differs (--verify: 115)"
	else
		bad "a loaded byte nothing reads (offset ${off:-not found}): status $st" "$tmp/err"
	fi
	# record refuses to overwrite.
	if "$VMM" record -o "$src" "$guest" > /dev/null 2> "$tmp/err"; then
		bad "record overwrote an existing journal"
	elif grep -q 'exists; give --force' "$tmp/err"; then
		ok "record refuses to overwrite an existing journal"
	else
		bad "record over an existing journal" "$tmp/err"
	fi
fi

# SIGKILL of a recorder. The spin guest says one line and then runs exit-less with no timer:
# nothing is recorded after the line, so only the recorder's own flush (by a kick, 110 ms of guest
# time after its first record) puts it on disk. Then kills at random moments of a ticking run: what is left
# must replay, to its end, with the guest's output as recorded so far.
spin=$(dirname "$1")/spin.elf
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_line() {	# wait_line FILE: up to 10 s for the spin guest's line
	for _ in $(seq 100); do grep -q spinning "$1" 2> /dev/null && return 0; sleep 0.1; done
	return 1
}
if [ -f "$spin" ]; then
	"$VMM" record --force -o "$tmp/quiet.vrr" "$spin" > "$tmp/quiet.out" 2> "$tmp/quiet.err" &
	pid=$!
	wait_line "$tmp/quiet.out"
	sleep 0.5
	kill -KILL $pid 2> /dev/null
	wait $pid 2> /dev/null
	timeout -k 10 60 "$VMM" replay "$tmp/quiet.vrr" > "$tmp/quiet.rep" 2> "$tmp/err"
	st=$?
	if [ $st -eq 0 ] && grep -q spinning "$tmp/quiet.rep" && grep -q 'cut short' "$tmp/err"; then
		ok "SIGKILL of a quiet guest: its last line was on disk and replays ($(tail -n 1 "$tmp/err" | cut -c1-80))"
	else
		bad "SIGKILL of a quiet guest: replay status $st, output '$(cat "$tmp/quiet.rep")'" "$tmp/err"
	fi
	worst=0 kills=0 replayed=0 losses=
	for _ in $(seq 20); do
		ms=$((300 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 1200))
		"$VMM" record --force -o "$tmp/kill.vrr" --append counting "$spin" > "$tmp/kill.out" 2> "$tmp/kill.err" &
		pid=$!
		wait_line "$tmp/kill.out"
		sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
		kill -KILL $pid 2> /dev/null
		wait $pid 2> /dev/null
		kills=$((kills + 1))
		timeout -k 10 120 "$VMM" replay "$tmp/kill.vrr" > "$tmp/kill.rep" 2> "$tmp/err"
		st=$?
		# The guest prints its tick count every 10 ms: what the replay printed is a prefix of what
		# the recording did, and the whole lines it lacks are the guest time lost, 10 ms each.
		lost=$(( 10 * ($(wc -l < "$tmp/kill.out") - $(wc -l < "$tmp/kill.rep")) ))
		[ "$lost" -gt $worst ] && worst=$lost
		losses="$losses $lost"
		if [ $st -eq 0 ] && grep -q 'cut short' "$tmp/err" && [ -s "$tmp/kill.rep" ] &&
		   head -c "$(stat -c %s "$tmp/kill.rep")" "$tmp/kill.out" | cmp -s - "$tmp/kill.rep"; then
			replayed=$((replayed + 1))
		else
			bad "SIGKILL after ${ms} ms: replay status $st" "$tmp/err"
			break
		fi
	done
	if [ $replayed -eq $kills ]; then
		ok "SIGKILL at $kills random moments: every cut journal replays its run's output so far; guest time lost (ms, by 10):$losses; worst $worst"
	fi
fi
summary "record/replay"
[ "$failed" -eq 0 ]
