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
