#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian 12 packages a make target needs, and only those that are missing.
#
#   scripts/deps.sh build|test|bench|fuzz
#
# As root this runs apt-get; otherwise it prints the exact command and fails.
set -euo pipefail

build_pkgs=(cmake gcc g++ musl-dev make pkg-config libxml2-dev libxml2-utils libseccomp-dev libcap-dev
	libcmocka-dev clang-format)
# Without /dev/kvm on the host, the end-to-end tests run on real KVM inside a QEMU (TCG) VM
# booting Debian's kernel with kvm-amd: see tests/vm/README.md.
vm_pkgs=(qemu-system-x86 busybox-static linux-image-amd64)
# The end-to-end tests check JSON and talk raw bytes to sockets with python3, render the
# installed man pages with man and check make deb's package with lintian (tests only).
test_pkgs=(python3 man-db lintian)

want=("${build_pkgs[@]}")
case "${1:-build}" in
build) ;;
test)
	want+=("${test_pkgs[@]}")
	[ -c /dev/kvm ] || want+=("${vm_pkgs[@]}")
	;;
bench)
	# QEMU for the boot comparison only (bench/all.sh), and for the VM without /dev/kvm.
	want+=(rt-tests qemu-system-x86 "${test_pkgs[@]}")
	[ -c /dev/kvm ] || want+=("${vm_pkgs[@]}")
	;;
fuzz) want+=(clang libclang-rt-14-dev) ;;
*)
	echo "usage: $0 build|test|bench|fuzz" >&2
	exit 2
	;;
esac

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "mumu: missing packages: ${missing[*]}" >&2
	echo "mumu: run as root: $cmd" >&2
	exit 1
fi
echo "mumu: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
