# Shell helpers shared by the test scripts (sourced, not run).

# The inputs' SHA-256s that vmm remembers (README "Files") go to the build tree, not the user's home.
VMM_CACHE_DIR=${VMM_CACHE_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build/test-cache}
export VMM_CACHE_DIR

# have_kvm: true if /dev/kvm can be used here.
have_kvm() {
	[ -c /dev/kvm ] && [ -r /dev/kvm ]
}

# no_kvm SUITE: a KVM suite run where there is no KVM fails, saying where it can run instead.
no_kvm() {
	echo "FAIL $1: /dev/kvm is missing or not accessible here; NOT RUN (make test runs the KVM" \
	     "suites in a nested kvm_amd when the host has none: tests/nested/run.sh)"
	echo "0 passed, 1 failed"
	exit 1
}

# field NAME LINE: the value of NAME=... or NAME="..." in a guest's "vmm-test:" line.
field() {
	printf '%s\n' "$2" | sed -n "s/.*[ ]$1=\"\\([^\"]*\\)\".*/\\1/p;t;s/.*[ ]$1=\\([^ ]*\\).*/\\1/p"
}

# guest_spec NAME: the "vmm-test:" line of tests/guests/NAME.c, or nothing.
guest_spec() {
	grep -m1 'vmm-test:' "tests/guests/$1.c" 2>/dev/null || true
}

# kvm_pvm shows the guest the host's CPUID feature bits (leaves 1 and 7), and its instruction
# emulator lacks some of them in kernel mode: Linux is kept off those there (README, host notes).
pvm_clearcpuid="clearcpuid=smap,smep,popcnt,xsave,rdrand,rdseed,fsgsbase,umip,pku"

# guest_args SPEC: vmm options for that guest on this host (pvm-args added on kvm_pvm).
guest_args() {
	if [ -d /sys/module/kvm_pvm ]; then
		echo "$(field args "$1") $(field pvm-args "$1")"
	else
		field args "$1"
	fi
}

# guest_disk NAME SPEC DIR: for a guest whose spec has disk=SECTORS, write DIR/NAME.img (the
# 16-byte line "vmm-disk-patter\n" over and over) and print the --disk option for it.
guest_disk() {
	sectors=$(field disk "$2")
	[ -n "$sectors" ] || return 0
	yes vmm-disk-patter | head -c $((sectors * 512)) > "$3/$1.img"
	echo "--disk $3/$1.img"
}

# disk_check NAME SPEC DIR: for disk-check="SECTOR:TEXT", true if that sector of the image holds
# TEXT (what the guest wrote); true too when the guest has no such check.
disk_check() {
	want=$(field disk-check "$2")
	[ -n "$want" ] || return 0
	dd if="$3/$1.img" bs=512 skip="${want%%:*}" count=1 2>/dev/null | grep -q "${want#*:}"
}

# guest_net NAME SPEC DIR: for a guest whose spec has net-peer=MODE, start netpeer MODE (log in
# DIR/NAME.peer, gone after 300 s or guest_net_stop) and print the --net option that reaches it.
guest_net() {
	mode=$(field net-peer "$2")
	[ -n "$mode" ] || return 0
	rm -f "$3/$1.port"
	"${NETPEER:-build/release/netpeer}" "$mode" --port-file "$3/$1.port" > "$3/$1.peer" 2>&1 &
	echo $! > "$3/$1.peerpid"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -s "$3/$1.port" ] && break
		sleep 0.1
	done
	echo "--net udp:0,peer=127.0.0.1:$(cat "$3/$1.port")"
}

# guest_net_stop NAME DIR: stop the netpeer guest_net started, if any.
guest_net_stop() {
	[ -f "$2/$1.peerpid" ] || return 0
	kill "$(cat "$2/$1.peerpid")" 2>/dev/null
	rm -f "$2/$1.peerpid"
}

# kvm_probe: ask `vmm probe` once what this host's KVM can do (kvm_has, kvm_label use the answer).
kvm_probe() {
	probe_out=$("${VMM:-./vmm}" probe 2>/dev/null)
}

# kvm_label: the KVM the suite runs on, e.g. "kvm_amd (nested, TCG)".
kvm_label() {
	printf '%s\n' "${probe_out:-}" | sed -n 's/^kvm: //p'
}

# kvm_cap CAP: sets yes (the `vmm probe` line that grants CAP) and no (what lacking it means) for
# hw_bp (debug-register breakpoints fire), int3 (an int3 comes back to vmm), singlestep, and
# window (exact interrupt-window exits).
kvm_cap() {
	case $1 in
	hw_bp) yes='^debug-register breakpoints: yes' no="debug-register breakpoints do not fire" ;;
	int3) yes='^int3 intercepted: yes' no="an int3 is not intercepted (it reaches the guest)" ;;
	singlestep) yes='^single-step: yes' no="single-stepping does not stop after one instruction" ;;
	window) yes='^interrupt-window exits: exact' no="interrupt-window exits are late" ;;
	*) return 1 ;;
	esac
}

# kvm_has CAP: true if the probe found CAP.
kvm_has() {
	kvm_cap "$1" && printf '%s\n' "${probe_out:-}" | grep -q "$yes"
}

# kvm_lacks CAP: the sentence an expected failure gives when this KVM lacks CAP.
kvm_lacks() {
	kvm_cap "$1"
	echo "$no on $(kvm_label) (vmm probe)"
}

# xfail NAME CAP: count an expected failure of check NAME, which needs CAP, and say why.
xfail() {
	xfailed=$((${xfailed:-0} + 1))
	echo "XFAIL $1: needs $2: $(kvm_lacks "$2")"
}

# needs: the KVM capabilities (kvm_has) the current checks rest on. Where this KVM lacks one,
# a failing check is an expected failure that names it, never a pass or a skip.
needs=
fail_check() {	# fail_check "NAME: DETAIL": a failure, or an expected one (xfail)
	for cap in $needs; do
		if ! kvm_has "$cap"; then
			xfail "$1" "$cap"
			return
		fi
	done
	failed=$((failed + 1))
	echo "FAIL $1"
}

# summary SUITE: the closing lines: which KVM the suite ran on, expected failures, and counts.
summary() {
	echo "$1 on $(kvm_label): ${xfailed:-0} expected failures (XFAIL above)"
	echo "$passed passed, $failed failed"
}
