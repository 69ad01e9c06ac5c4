# Shell helpers shared by the test scripts (sourced, not run).

# have_kvm: true if /dev/kvm can be used here.
have_kvm() {
	[ -c /dev/kvm ] && [ -r /dev/kvm ]
}

# field NAME LINE: the value of NAME=... or NAME="..." in a guest's "vmm-test:" line.
field() {
	printf '%s\n' "$2" | sed -n "s/.*[ ]$1=\"\\([^\"]*\\)\".*/\\1/p;t;s/.*[ ]$1=\\([^ ]*\\).*/\\1/p"
}

# guest_spec NAME: the "vmm-test:" line of tests/guests/NAME.c, or nothing.
guest_spec() {
	grep -m1 'vmm-test:' "tests/guests/$1.c" 2>/dev/null || true
}

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
