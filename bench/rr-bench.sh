#!/bin/sh
# `make bench` on one KVM (the host's /dev/kvm, or the nested kvm_amd's: bench/run.sh runs it on
# each): the cost of an exit against a bare KVM loop, then run vs record vs replay for an
# I/O-bound guest (rtc), a CPU-bound one whose ticks land in busy loops (landmarks), the Linux
# boot and a virtio-blk read, side by side in one run, each the median of BENCH_RUNS runs (5) with
# the fastest and slowest. Prints a Markdown section.
#
# usage: VMM=./vmm KVMLOOP=build/release/kvmloop [BENCH_KEEP=DIR] bench/rr-bench.sh
# (BENCH_KEEP: the guests' journals are copied there, for bench/qemu-bench.sh rr to compare)
set -u
VMM=${VMM:-./vmm}
KVMLOOP=${KVMLOOP:-build/release/kvmloop}
RUNS=${BENCH_RUNS:-5}
EXITS=${BENCH_EXITS:-20000}
tmp=${TMPDIR:-/tmp}/vmm-bench.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
CLR="clearcpuid=smap,smep,popcnt,xsave,rdrand,rdseed,fsgsbase,umip,pku,tsc"

timed() {	# timed OUTFILE ERRFILE CMD...: prints seconds
	out=$1 err=$2
	shift 2
	start=$(date +%s.%N)
	"$@" > "$out" 2> "$err"
	end=$(date +%s.%N)
	echo "$end - $start" | bc
}

# Peak resident memory of a timed command, in KiB, appended to a file: GNU time (Debian's `time`,
# bench/run.sh installs it) costs a fork and a wait, nothing a second of guest notices.
RSS_OK=
[ -x /usr/bin/time ] && RSS_OK=yes
rss() {	# rss FILE CMD...
	rfile=$1
	shift
	if [ -n "$RSS_OK" ]; then
		/usr/bin/time -a -o "$rfile" -f %M "$@"
	else
		"$@"
	fi
}

# Numbers on stdin, one a line: "median min max".
spread() {
	sort -g | awk '{ a[NR] = $1 } END { if (NR) printf "%s %s %s\n", a[int((NR + 1) / 2)], a[1], a[NR]; else print "0 0 0" }'
}

# "median (min-max)" of a spread, to DIGITS decimals.
show() {	# show DIGITS MEDIAN MIN MAX
	printf "%.${1}f (%.${1}f-%.${1}f)" "$2" "$3" "$4"
}

ratio() {	# ratio A B: A / B to two decimals, or - when B is 0
	python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a / b:.2f}' if b else '-')" "$1" "$2"
}

# Runs CMD RUNS times (only once if it fails: a divergence is not timed again); "median min max" of the seconds.
repeat() {	# repeat NAME CMD...
	rname=$1
	shift
	: > "$tmp/$rname.times"
	: > "$tmp/$rname.rss"
	i=0
	while [ $i -lt "$RUNS" ]; do
		i=$((i + 1))
		timed "$tmp/$rname.out" "$tmp/$rname.err" rss "$tmp/$rname.rss" "$@" >> "$tmp/$rname.times"
		grep -q -e 'diverged' -e '^vmm: error' "$tmp/$rname.err" && break
	done
	spread < "$tmp/$rname.times"
}

blk_section() {	# the virtio-blk table, its heading (### ...$1) and notes
	# virtio-blk: the blk_read guest reads a 64 MiB image front to back, 64 KiB a request, one in
	# flight. (Linux's dd cannot run on kvm_pvm hosts, whose guest user space dies at its first
	# system call, so the workload is a test guest's driver.)
	# The image is random bytes, so the journal's size per MB is that of data that does not compress.
	head -c $((64 << 20)) /dev/urandom > "$tmp/disk.img"
	echo "### virtio-blk sequential read, 64 MiB${1:-}"
	echo
	echo "Each notification through an ioeventfd (\`--ioeventfd\`, taken at the guest's next exit or sleep) or as an"
	echo "MMIO exit (\`--no-ioeventfd\`). This machine's default: $([ "$(nproc)" -ge 2 ] && echo "--ioeventfd ($(nproc) CPUs)" ||
		echo "--no-ioeventfd (one CPU)")."
	echo
	echo "| notifications | run s | record s | replay s | record/run | replay/record | MB/s run / record / replay | exits per MB (run) | journal bytes per MB | zstd s (writer thread or, one CPU, vCPU thread) / recorder waited s (frames stored uncompressed) |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for mode in --ioeventfd --no-ioeventfd; do
		set -- $(repeat brun "$VMM" run $mode --stats --serial none --disk "$tmp/disk.img" --append random \
			build/guests/blk_read.elf)
		run_m=$1; run_s=$(show 2 "$@")
		exits=$(sed -n 's/^vmm: [0-9.]* s, \([0-9]*\) exits.*/\1/p' "$tmp/brun.err" | tail -n 1)
		set -- $(repeat brec "$VMM" record $mode --stats --force -o "$tmp/blk.vrr" --serial none --disk "$tmp/disk.img" \
			--append random build/guests/blk_read.elf)
		rec_m=$1; rec_s=$(show 2 "$@")
		set -- $(repeat brep "$VMM" replay --serial none "$tmp/blk.vrr")
		rep_m=$1; rep_s=$(show 2 "$@")
		bytes=$(stat -c %s "$tmp/blk.vrr")
		# The last recording's: zstd's time, now beside the guest, and what the guest still waited.
		writer=$(sed -n 's/^vmm: journal writer: \([0-9]*\) frames .* in \([0-9.]*\) s [^;]*; the recorder waited \([0-9.]*\) s[^;]*; \([0-9]*\) frames stored.*/\2 \/ \3 (\4 of \1 frames stored)/p' \
			"$tmp/brec.err" | tail -n 1)
		printf '| `%s` | %s | %s | %s | %s | %s | %.1f / %.1f / %.1f | %s | %s | %s |\n' "$mode" "$run_s" "$rec_s" "$rep_s" \
			"$(ratio "$rec_m" "$run_m")" "$(ratio "$rep_m" "$rec_m")" "$(echo "64 / $run_m" | bc -l)" \
			"$(echo "64 / $rec_m" | bc -l)" "$(echo "64 / $rep_m" | bc -l)" "$(echo "${exits:-0} / 64" | bc)" \
			"$(echo "$bytes / 64" | bc)" "${writer:--}"
		grep -q '^replay:' "$tmp/brep.err" || echo "blk $mode: $(grep -m1 -e diverged -e error "$tmp/brep.err")" >> "$tmp/notes"
	done
	echo
	echo "The image is random bytes, which zstd cannot shrink: every byte the guest reads is in the journal,"
	echo "plus the exits around it. A frame that zstd shrinks by less than 1/32 in four 4 KiB probes is stored"
	echo "as zstd would have written it (raw blocks and its checksum), without the full compression pass."
	echo "The guest has one request in flight and waits for each. Where vmm may use"
	echo "two CPUs or more, the journal's zstd runs on a writer thread: its seconds are what the recording thread"
	echo "no longer spends. On one CPU the vCPU thread compresses each frame as it ends ($(nproc) here)."
	echo
}

# BENCH_ONLY=blk: the virtio-blk table alone, under the section of the run before (bench/run.sh:
# the nested VM again, with two CPUs, so that the journal writer has a CPU of its own).
if [ "${BENCH_ONLY:-}" = blk ]; then
	blk_section " on $(nproc) CPUs"
	echo "The same table with the VM given $(nproc) CPUs (QEMU's multi-threaded TCG; median of $RUNS runs), so"
	echo "that the journal writer thread runs beside the vCPU, as on any host with two CPUs or more."
	echo
	[ -f "$tmp/notes" ] && { echo "Replays that did not finish:"; echo; sed 's/^/    /' "$tmp/notes"; echo; }
	exit 0
fi

kvm=$("$VMM" probe 2>/dev/null | sed -n 's/^kvm: //p')
echo "## On ${kvm:-an unknown KVM}"
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, vmm $("$VMM" --version | cut -d' ' -f2); median of $RUNS runs (fastest-slowest)."
echo
"$VMM" probe 2>&1 | sed -n '2,8s/^/    /p'
echo

# ---- An exit against the physical limit ----
# Per-exit cost: (seconds with EXITS exits - seconds with none) / EXITS, so boot and teardown
# cancel out; one pair of runs gives one figure.
echo "### An exit against a bare KVM loop"
echo
echo "The limit is bench/kvmloop.c: a 64-bit guest in a bare KVM_RUN loop doing one kind of exit, no devices."
echo "vmm's figures are the exits guest (tests/guests/exits.c) doing $EXITS of the same exit, run, recorded and"
echo "replayed, less the same guest doing none. Every test guest runs in 64-bit mode (tests/guests/lib/entry.S"
echo "switches to it at once), so that is the one CPU mode measured. HLT has no row: kvmloop's \`hlt\` is a bare"
echo "round trip (\`kvmloop hlt\` measures it), but in vmm a \`hlt\` with interrupts on sleeps until the next"
echo "interrupt and one with them off powers the guest off, so there is no vmm round trip to set beside it."
echo "The last two columns turn KVM_CAP_SYNC_REGS off (VMM_NO_SYNC_REGS=1): a KVM_GET_REGS per exit instead."
echo
echo "| exit | bare KVM us | vmm run us | run/bare | vmm record us | record/bare | vmm replay us | replay/bare | record us, no sync regs | replay us, no sync regs |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for kind in pio mmio; do
	bare=$("$KVMLOOP" "$kind" "$EXITS" "$RUNS" 2> "$tmp/kvmloop.err" | cut -d' ' -f2-)
	if [ -z "$bare" ]; then
		echo "| $kind | kvmloop failed: $(head -c 200 "$tmp/kvmloop.err") | | | | | | | | |"
		continue
	fi
	set -- $bare
	bare_us=$(echo "$1 / 1000" | bc -l)
	bare_show=$(show 2 "$bare_us" "$(echo "$2 / 1000" | bc -l)" "$(echo "$3 / 1000" | bc -l)")
	"$VMM" record --force -q -o "$tmp/ex0.vrr" --serial none --append "$kind=0" build/guests/exits.elf 2>/dev/null
	"$VMM" record --force -q -o "$tmp/exN.vrr" --serial none --append "$kind=$EXITS" build/guests/exits.elf 2>/dev/null
	: > "$tmp/run.per"; : > "$tmp/rec.per"; : > "$tmp/rep.per"; : > "$tmp/recn.per"; : > "$tmp/repn.per"
	i=0
	while [ $i -lt "$RUNS" ]; do
		i=$((i + 1))
		for how in run rec rep recn repn; do
			case $how in recn|repn) export VMM_NO_SYNC_REGS=1 ;; *) unset VMM_NO_SYNC_REGS ;; esac
			case $how in
			run) t0=$(timed /dev/null /dev/null "$VMM" run --serial none --append "$kind=0" build/guests/exits.elf)
			     tn=$(timed /dev/null /dev/null "$VMM" run --serial none --append "$kind=$EXITS" build/guests/exits.elf) ;;
			rec*) t0=$(timed /dev/null /dev/null "$VMM" record --force -q -o "$tmp/r0.vrr" --serial none \
					--append "$kind=0" build/guests/exits.elf)
			     tn=$(timed /dev/null /dev/null "$VMM" record --force -q -o "$tmp/rN.vrr" --serial none \
					--append "$kind=$EXITS" build/guests/exits.elf) ;;
			rep*) t0=$(timed /dev/null /dev/null "$VMM" replay -q --serial none "$tmp/ex0.vrr")
			     tn=$(timed /dev/null /dev/null "$VMM" replay -q --serial none "$tmp/exN.vrr") ;;
			esac
			echo "($tn - $t0) * 1000000 / $EXITS" | bc -l >> "$tmp/$how.per"
		done
	done
	row="| $kind | $bare_show"
	for how in run rec rep; do
		set -- $(spread < "$tmp/$how.per")
		row="$row | $(show 2 "$1" "$2" "$3") | $(ratio "$1" "$bare_us")"
	done
	for how in recn repn; do
		set -- $(spread < "$tmp/$how.per")
		row="$row | $(show 2 "$1" "$2" "$3")"
	done
	echo "$row |"
done
unset VMM_NO_SYNC_REGS
echo

# ---- Guests: run, record, replay ----
echo "### Run, record, replay"
echo
echo "Seconds of wall time. Events: where recording placed each asynchronous event (at the guest's own"
echo "exits, at the interrupt-window exit after an sti, at a landmark replay must hunt for)."
echo
echo "| guest | run s | record s | record/run | replay s | replay/record | journal bytes | exits | events at exits / windows / landmarks | hits per landmark | peak RSS MiB run / record / replay |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"

bench() {	# bench NAME VMM-ARGS...
	name=$1
	shift
	set -- "$@"
	run=$(repeat run "$VMM" run --serial none "$@")
	rec=$(repeat rec "$VMM" record --force -o "$tmp/$name.vrr" --serial none "$@")
	rep=$(repeat rep "$VMM" replay --serial none "$tmp/$name.vrr")
	"$VMM" journal stat "$tmp/$name.vrr" > "$tmp/stat" 2>&1
	[ -n "${BENCH_KEEP:-}" ] && cp "$tmp/$name.vrr" "$BENCH_KEEP/"
	bytes=$(stat -c %s "$tmp/$name.vrr")
	exits=$(awk '$1 == "exit" {print $2}' "$tmp/stat")
	placed=$(sed -n 's/^events: *\([0-9]*\) placed at exits, \([0-9]*\) at window exits, \([0-9]*\) at landmarks.*/\1 \/ \2 \/ \3/p' "$tmp/stat")
	line=$(grep '^replay:' "$tmp/rep.err" || grep -m1 -e 'diverged' -e '^vmm:' "$tmp/rep.err" || echo "replay failed")
	lm=$(echo "$line" | sed -n 's/.* \([0-9]*\) landmarks.*/\1/p')
	hits=$(echo "$line" | sed -n 's/.*(\([0-9]*\) breakpoint hits.*/\1/p')
	per=-
	[ "${lm:-0}" -gt 0 ] && per=$(echo "${hits:-0} / $lm" | bc)
	set -- $run; run_m=$1; run_s=$(show 2 "$@")
	set -- $rec; rec_m=$1; rec_s=$(show 2 "$@")
	set -- $rep; rep_m=$1; rep_s=$(show 2 "$@")
	rep_r=$(ratio "$rep_m" "$rec_m")
	# A failed replay's time is how long it took to give up, not a replay cost: no ratio for it.
	case "$line" in replay:*) ;; *) rep_s="failed"; rep_r=-; echo "$name: $line" >> "$tmp/notes" ;; esac
	echo "| $name | $run_s | $rec_s | $(ratio "$rec_m" "$run_m") | $rep_s | $rep_r | $bytes | $exits | ${placed:--} | $per |" \
		"$(peak run) / $(peak rec) / $(peak rep) |"
}

peak() {	# peak NAME: the median peak RSS of repeat NAME's runs in MiB, or - without GNU time
	if [ -s "$tmp/$1.rss" ]; then
		grep -E '^[0-9]+$' "$tmp/$1.rss" | spread | awk '{ printf "%.0f", $1 / 1024 }'
	else
		printf -
	fi
}

bench rtc-guest --rtc 1700000000 build/guests/rtc.elf
bench landmarks-guest build/guests/landmarks.elf
# The boot stops before user space (rdinit= names no program, and there is no root device): the
# row measures the kernel's boot alone, comparable with the rows of earlier runs.
if [ -f build/guest/bzImage ] && [ -f build/guest/initramfs.cpio ]; then
	bench linux-pvh --initrd build/guest/initramfs.cpio \
		--append "console=ttyS0 panic=-1 io_delay=none rdinit=/vmm-no-init $CLR" \
		build/guest/vmlinux
fi
echo

blk_section
if [ -f "$tmp/notes" ]; then
	echo "Replays that did not finish:"
	echo
	sed 's/^/    /' "$tmp/notes"
	echo
fi
# Reverse execution: gdb on a replay of the rtc guest (a few seconds of guest time), continued
# to the end of the journal; then the same session going back from there to the last call of
# report(). The difference is what the reverse-continue cost: once from the snapshots vmm takes
# as the replay advances, once with none (--snapshot-interval 0: every going back replays from
# the start). At the end of each session, before going back, the memory of every vmm process
# of the replay is summed (PSS, so pages shared copy-on-write count once).
cat > "$tmp/pss.sh" <<'PSS'
# pss.sh ROOT-PID OUT: KiB of PSS of the process and all its descendants, into OUT
pids=$1 all=$1
while [ -n "$pids" ]; do
	next=""
	for p in $pids; do next="$next $(cat /proc/$p/task/*/children 2>/dev/null)"; done
	pids=$(echo $next)
	all="$all $pids"
done
for p in $all; do awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup 2>/dev/null; done | awk '{s += $1} END {print s + 0}' > "$2"
PSS
gdbtime() {	# gdbtime JOURNAL SYMBOLS REPLAY-OPTS -- GDB-ARGS...: wall seconds of a gdb batch session on a replay
	gj=$1 gsyms=$2
	shift 2
	gopts=""
	while [ "$1" != "--" ]; do gopts="$gopts $1"; shift; done
	shift
	sock=$tmp/bench.sock
	rm -f "$sock"
	"$VMM" replay --serial none $gopts --gdb "unix:$sock" "$gj" 2> "$tmp/gdbrep.err" &
	gpid=$!
	echo "$gpid" > "$tmp/gdbrep.pid"
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do [ -S "$sock" ] && break; sleep 0.1; done
	gs=$(date +%s.%N)
	gdb -batch -nx -ex "target remote $sock" "$@" "$gsyms" > "$tmp/gdb.out" 2>&1
	ge=$(date +%s.%N)
	wait $gpid
	echo "$ge - $gs" | bc -l
}
if [ -f "$tmp/rtc-guest.vrr" ] && command -v gdb > /dev/null; then
	# Memory is measured in sessions of its own: the measuring shell's time is no part of a replay's.
	measure="shell bash $tmp/pss.sh \$(cat $tmp/gdbrep.pid) $tmp/pss"
	gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex continue -ex "$measure" > /dev/null
	pss_snap=$(cat "$tmp/pss")
	fwd=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex continue)
	both=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex continue -ex "hbreak report" -ex reverse-continue \
		-ex "monitor snapshots")
	landed=$(grep -c 'Breakpoint 1, report' "$tmp/gdb.out")
	snaps=$(grep -m1 '^[0-9]* snapshots' "$tmp/gdb.out" | cut -d, -f1)
	gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 --snapshot-interval 0 -- -ex continue -ex "$measure" > /dev/null
	pss_none=$(cat "$tmp/pss")
	fwd0=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 --snapshot-interval 0 -- -ex continue)
	both0=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 --snapshot-interval 0 -- -ex continue \
		-ex "hbreak report" -ex reverse-continue)
	landed0=$(grep -c 'Breakpoint 1, report' "$tmp/gdb.out")
	# Watchpoints trap their page: one that never stops (gdb's condition is never true), and a
	# reverse-continue from the end to the last write of a watched variable.
	fwdw=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex "watch failed if failed == 99" -ex continue)
	bothw=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex continue -ex "watch passed" -ex reverse-continue)
	landedw=$(grep -c 'Hardware watchpoint 1: passed' "$tmp/gdb.out")
	# Software breakpoints: an int3 planted around every KVM_RUN, on a function the guest never
	# calls; and the reverse-continue to report() again with `break` instead of `hbreak`.
	fwds=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex "break user_run" -ex continue)
	boths=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex continue -ex "break report" -ex reverse-continue)
	landeds=$(grep -c 'Breakpoint 1, report' "$tmp/gdb.out")
	rcs=$(echo "$boths - $fwd" | bc -l)
	rcw=$(echo "$bothw - $fwd" | bc -l)
	rc=$(echo "$both - $fwd" | bc -l)
	rc0=$(echo "$both0 - $fwd0" | bc -l)
	# A reverse-continue that did not stop where it should measured nothing (on a KVM whose
	# breakpoints do not fire it runs back to the start): no number for it, only why.
	rcrow() {	# rcrow LABEL SECONDS LANDED
		if [ "$3" -ge 1 ] && [ "$(echo "$2 > 0" | bc -l)" = 1 ]; then
			printf '| %s | %.2f | %.2f | |\n' "$1" "$2" "$(echo "$2 / $fwd" | bc -l)"
		elif [ "$3" -ge 1 ]; then
			# A difference of two wall times that came out negative: the going back cost less than
			# the noise between two runs of the same forward replay.
			printf '| %s | within the noise (%.2f) | - | |\n' "$1" "$2"
		else
			echo "| $1 | did not stop there (see below) | - | |"
		fi
	}
	echo "### Reverse execution (rtc guest, gdb attached to its replay)"
	echo
	echo "| | seconds | / replay to the end | memory at the end (PSS of all vmm processes) |"
	echo "|---|---|---|---|"
	printf '| replay to the end under gdb, snapshots every 1 s (default) | %.2f | 1.00 | %d KiB (%s) |\n' "$fwd" \
		"$pss_snap" "$snaps"
	rcrow "reverse-continue from the end to the last report(), from the snapshots" "$rc" "$landed"
	printf '| replay to the end under gdb with a watchpoint on a page the guest writes (never stops) | %.2f | %.2f | |\n' \
		"$fwdw" "$(echo "$fwdw / $fwd" | bc -l)"
	rcrow "reverse-continue from the end to the last write of a watched variable, from the snapshots" "$rcw" \
		"$((landedw - 1))"
	printf '| replay to the end under gdb with a software breakpoint that never fires | %.2f | %.2f | |\n' \
		"$fwds" "$(echo "$fwds / $fwd" | bc -l)"
	rcrow "reverse-continue from the end to the last report() with a software breakpoint, from the snapshots" \
		"$rcs" "$landeds"
	printf '| replay to the end under gdb, no snapshots (--snapshot-interval 0) | %.2f | %.2f | %d KiB |\n' "$fwd0" \
		"$(echo "$fwd0 / $fwd" | bc -l)" "$pss_none"
	rcrow "reverse-continue from the end to the last report(), from the start" "$rc0" "$landed0"
	echo
	echo "The reverse-continue to the write stopped on the watchpoint: $( [ "$landedw" -ge 2 ] && echo yes || echo NO);"
	echo "the one with a software breakpoint landed on report(): $( [ "$landeds" -ge 1 ] && echo yes || echo NO)."
	echo "The reverse-continue landed on report(): $( [ "$landed" -ge 1 ] && echo yes || echo NO) from the snapshots,"
	echo "$( [ "$landed0" -ge 1 ] && echo yes || echo NO) from the start. Snapshot memory overhead:"
	echo "$((pss_snap - pss_none)) KiB for the $snaps (the pages the replay wrote after each was taken, plus each"
	echo "process's own few pages). From the start, going back replays twice (scan to the point, then run to"
	echo "the stop found); from the snapshots, both runs start at the newest snapshot before the point."
	echo
fi

echo "Hits per landmark: the breakpoint hits (or single-steps, where debug registers do not fire) replay"
echo "needed per landmark. The Linux guest is the patched kernel of tools/build-linux.sh, told"
echo "clearcpuid=...,tsc, so that it never reads the TSC and replays exactly."
echo
