#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make deb: a Debian package of mumu (programs, schema, examples, the SDK, man pages, the
# systemd unit, completion) from a Release install into a staging root, with dpkg-deb.
#   scripts/deb.sh BUILD_RELEASE OUT_DIR
# DEB_MAINTAINER names whoever builds it ("Name <address>"); lintian checks it when installed.
set -euo pipefail
build=$1 out=$2
maintainer=${DEB_MAINTAINER:-mumu developers <mumu@example.org>}
root=$(mktemp -d)
chmod 755 "$root"
trap 'rm -rf "$root"' EXIT
cd "$(dirname "$0")/.."
version=$(sed -n 's/^project(mumu VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
arch=$(dpkg --print-architecture)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
DESTDIR=$root cmake --install "$build" >/dev/null
# The programs without their symbols (the Release build's are for debugging in the tree).
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root"/usr/bin/*
doc=$root/usr/share/doc/mumu
mkdir -p "$doc" "$root/DEBIAN"
cat >"$doc/copyright" <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: mumu
Files: *
Copyright: 2026 the mumu authors
License: MIT

License: MIT
$(sed -e '1,4d' -e 's/^$/./' -e 's/^/ /' LICENSE)
COPY
printf 'mumu (%s-1) unstable; urgency=low\n\n  * Built from the source tree.\n\n -- %s  %s\n' \
	"$version" "$maintainer" "$(date -R)" | gzip -9n >"$doc/changelog.Debian.gz"
gzip -9n "$root"/usr/share/man/man*/*
# Not for Debian's archive: no ITP bug to close.
mkdir -p "$root/usr/share/lintian/overrides"
echo "mumu: initial-upload-closes-no-bugs" >"$root/usr/share/lintian/overrides/mumu"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CTL
Package: mumu
Version: $version-1
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: libc6, libxml2, libseccomp2, libcap2
Recommends: musl-dev, gcc
Section: admin
Priority: optional
Description: partitioning hypervisor for Linux KVM (ARINC 653 style)
 mumu runs several applications on one computer, each in a KVM virtual machine
 hosted by its own sandboxed process, in the fixed time windows of a static
 schedule, talking only through declared ports. It includes an ARINC 653
 partition OS (APEX) and the SDK to build partition programs.
CTL
mkdir -p "$out"
dpkg-deb --root-owner-group --build "$root" "$out/mumu_${version}-1_${arch}.deb" >/dev/null
echo "$out/mumu_${version}-1_${arch}.deb"
