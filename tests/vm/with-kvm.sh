#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run a command where /dev/kvm works: here if this host has it, otherwise inside a QEMU VM.
#
#   tests/vm/with-kvm.sh [--timeout SECONDS] CMD [ARGS...]
#
# The VM (QEMU, TCG, an emulated AMD CPU with SVM, 2 vCPUs, 2 GiB) boots Debian's kernel,
# loads kvm-amd, mounts this host's / read-only over 9p with the repository read-write at
# the same path, and runs CMD there as root in the current directory. KVM inside it is the
# real kernel KVM, nested under an emulated CPU: correct, but slow, so never time anything
# there that should reflect this host. Exit status: CMD's, or 125 when the VM failed.
# MUMU_VM_TCG=single (default) or multi: TCG on one host thread, or one per vCPU. Tests use
# single: with multi, rapid VMM creation and kills have frozen the VM. Benchmarks use multi:
# only then do the two vCPUs run at the same time, as cores do.
set -euo pipefail

timeout_s=1800
if [ "${1:-}" = "--timeout" ]; then
	timeout_s=$2
	shift 2
fi
[ $# -ge 1 ] || { echo "usage: $0 [--timeout SECONDS] CMD [ARGS...]" >&2; exit 2; }

if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ -z "${MUMU_FORCE_VM:-}" ]; then
	exec "$@"
fi

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${MUMU_VM_CACHE:-$repo/build/vm}
mkdir -p "$cache"

# A kernel that ships kvm-amd.ko, with its modules.
kver=
for k in /boot/vmlinuz-*; do
	v=${k#/boot/vmlinuz-}
	if [ -f "/lib/modules/$v/kernel/arch/x86/kvm/kvm-amd.ko" ] ||
		[ -f "/lib/modules/$v/kernel/arch/x86/kvm/kvm-amd.ko.xz" ]; then
		kver=$v
	fi
done
if [ -z "$kver" ] || ! command -v qemu-system-x86_64 >/dev/null || [ ! -x /bin/busybox ]; then
	echo "with-kvm: this host has no /dev/kvm and no VM to run KVM in;" \
		"run scripts/deps.sh test (qemu-system-x86, linux-image-amd64, busybox-static)" >&2
	exit 125
fi
moddir=/lib/modules/$kver

# The base initramfs: busybox, the modules in dependency order, /init. Built once per kernel.
base=$cache/base-$kver.cpio.gz
if [ ! -s "$base" ] || [ "$0" -nt "$base" ]; then
	stage=$(mktemp -d)
	trap 'rm -rf "$stage"' EXIT
	mkdir -p "$stage"/{bin,dev,proc,sys,newroot,mod}
	cp /bin/busybox "$stage/bin/busybox"
	declare -A seen=()
	order=()
	add_module() {
		local name=$1 file dep
		[ -n "${seen[$name]:-}" ] && return 0
		seen[$name]=1
		file=$(modinfo -k "$kver" -n "$name")
		for dep in $(modinfo -k "$kver" -F depends "$name" | tr ',' ' '); do
			add_module "$dep"
		done
		case "$file" in
		*.xz) xz -dc "$file" >"$stage/mod/$name.ko" ;;
		*.zst) zstd -qdc "$file" >"$stage/mod/$name.ko" ;;
		*) cp "$file" "$stage/mod/$name.ko" ;;
		esac
		order+=("$name")
	}
	for m in virtio_pci 9pnet_virtio 9p kvm-amd; do
		add_module "$m"
	done
	printf '%s\n' "${order[@]}" >"$stage/mod/order"
	cat >"$stage/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /mod/order); do
	insmod /mod/$m.ko || echo "with-kvm: insmod $m failed"
done
. /cmd.env
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /newroot
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t tmpfs tmpfs /newroot/tmp
mount -t tmpfs tmpfs /newroot/run
mount -t tmpfs tmpfs /newroot/var/tmp
# The repository last: it may live below one of the fresh tmpfs mounts (a clone in /tmp).
mkdir -p "/newroot$MUMU_VM_REPO"
mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=512000 repo "/newroot$MUMU_VM_REPO"
hostname mumu-kvm-vm
rc=125
if [ -c /newroot/dev/kvm ]; then
	echo "MUMU_VM_BEGIN"
	chroot /newroot /bin/sh -c 'cd "$MUMU_VM_CWD" && exec /bin/sh /proc/1/root/cmd.sh' </dev/null
	rc=$?
else
	echo "with-kvm: /dev/kvm did not appear in the VM"
fi
echo "MUMU_VM_EXIT=$rc"
sync
poweroff -f
INIT
	chmod +x "$stage/init"
	(cd "$stage" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$base.tmp"
	mv "$base.tmp" "$base"
	rm -rf "$stage"
	trap - EXIT
fi

# The command, as a second archive appended to the base (the kernel unpacks both).
run=$(mktemp -d)
trap '[ -n "${MUMU_VM_KEEP:-}" ] || rm -rf "$run"' EXIT
{
	printf 'export MUMU_VM_REPO=%q MUMU_VM_CWD=%q\n' "$repo" "$PWD"
	printf 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8\n'
	printf 'export MUMU_IN_VM=1\n'
	for v in $(compgen -e); do
		case "$v" in MUMU_VM_*) ;; MUMU_* | CTEST_* | CI) printf 'export %s=%q\n' "$v" "${!v}" ;; esac
	done
} >"$run/cmd.env"
{
	printf '. /proc/1/root/cmd.env\n'
	printf '%q ' "$@"
	printf '\n'
} >"$run/cmd.sh"
(cd "$run" && printf 'cmd.env\ncmd.sh\n' | cpio -o -H newc 2>/dev/null | gzip -1) >"$run/cmd.cpio.gz"
cat "$base" "$run/cmd.cpio.gz" >"$run/initrd.gz"

# The command's output arrives on the serial console; strip its CRs, keep the exit marker.
set +e
timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
	-accel "tcg,thread=${MUMU_VM_TCG:-single}" -cpu EPYC,+svm -smp 2 -m 2048 \
	-kernel "/boot/vmlinuz-$kver" -initrd "$run/initrd.gz" \
	-append "console=ttyS0 quiet loglevel=1 panic=-1 softlockup_panic=1 tsc=reliable" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$repo,mount_tag=repo,security_model=none,multidevs=remap" \
	-nographic -no-reboot -nodefaults -serial stdio -device virtio-rng-pci \
	2>"$run/qemu.err" </dev/null | stdbuf -oL tr -d '\r' | tee "$run/console.log" |
	awk '/MUMU_VM_EXIT=[0-9]+$/ { if (on) { sub(/MUMU_VM_EXIT=[0-9]+$/, ""); if ($0 != "") print } on = 0; next } on { print; fflush() } /MUMU_VM_BEGIN$/ { on = 1 }'
qrc=${PIPESTATUS[0]}
set -e
rc=$(sed -n 's/^.*MUMU_VM_EXIT=\([0-9]*\)$/\1/p' "$run/console.log" | tail -n 1)
if [ -z "$rc" ]; then
	echo "with-kvm: the VM ended without the command's status (qemu exit $qrc); its console:" >&2
	cat "$run/console.log" >&2
	grep -v 'TCG doesn.t support requested feature' "$run/qemu.err" >&2 || true
	exit 125
fi
exit "$rc"
