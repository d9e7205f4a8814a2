#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Usage: kernel.sh SERIES|PATH.deb CACHEDIR
# Finds (apt-get download) the newest Debian linux-image package of a series (6.1 or 6.12), or
# takes the given .deb, and extracts only its kernel and config into CACHEDIR/KVER/.
# Prints key=value lines on stdout: package, version, kver, deb, vmlinuz, config.
# Needs apt (and root only when the package lists must be refreshed). Messages on stderr.
set -euo pipefail
spec=${1:?usage: kernel.sh SERIES|PATH.deb CACHEDIR}
cache=${2:?usage: kernel.sh SERIES|PATH.deb CACHEDIR}
me="fragscope lab"
die() { echo "$me: $*" >&2; exit 1; }
mkdir -p "$cache/debs"

# The meta package that tracks a series, and the image package it depends on (the candidate).
meta_of() {
  case "$1" in
    6.1) echo linux-image-amd64 ;;		# bookworm's default kernel is 6.1
    *) echo "linux-image-$1-amd64" ;;	# 6.12 comes from bookworm-security as linux-image-6.12-amd64
  esac
}
image_of_meta() {
  apt-cache show --no-all-versions "$1" 2>/dev/null |
    sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -1 || true
}

if [ -f "$spec" ]; then
  deb=$(readlink -f "$spec")
else
  case "$spec" in
    6.1|6.12) ;;
    *) die "'$spec' is neither a kernel series (6.1, 6.12) nor an existing .deb file" ;;
  esac
  command -v apt-cache >/dev/null || die "apt-cache not found: fetching kernels needs Debian's apt"
  meta=$(meta_of "$spec")
  pkg=$(image_of_meta "$meta")
  if [ -z "$pkg" ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "$me: refreshing the apt package lists (apt-get update)" >&2
      apt-get update -qq >&2 || true
      pkg=$(image_of_meta "$meta")
    fi
  fi
  [ -n "$pkg" ] || die "no Debian package '$meta' found for kernel series $spec (is bookworm-security in sources.list? try 'apt-get update')"
  ver=$(apt-cache show --no-all-versions "$pkg" | sed -n 's/^Version: //p' | head -1 || true)
  [ -n "$ver" ] || die "apt knows no version of '$pkg'"
  deb=$(ls "$cache/debs/${pkg}_"*"_amd64.deb" 2>/dev/null | while read -r f; do
        [ "$(dpkg-deb -f "$f" Version)" = "$ver" ] && echo "$f"; done | head -1 || true)
  if [ -z "$deb" ]; then
    echo "$me: downloading $pkg $ver" >&2
    log=$(cd "$cache/debs" && apt-get download -q "$pkg=$ver" 2>&1) || { echo "$log" >&2; die "apt-get download $pkg=$ver failed"; }
    echo "$log" | grep -v '^W: Download is performed unsandboxed' >&2 || true
    deb=$(ls -t "$cache/debs/${pkg}_"*"_amd64.deb" | head -1 || true)
  fi
fi

pkg=$(dpkg-deb -f "$deb" Package) || die "'$deb' is not a Debian package"
ver=$(dpkg-deb -f "$deb" Version)
case "$pkg" in linux-image-*) ;; *) die "'$deb' is '$pkg', not a linux-image package" ;; esac
kver=${pkg#linux-image-}; kver=${kver%-unsigned}
dir="$cache/$kver"
if [ ! -s "$dir/vmlinuz" ] || [ "$(cat "$dir/version" 2>/dev/null)" != "$ver" ]; then
  echo "$me: extracting the kernel of $pkg $ver" >&2
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
  # Only the kernel and its config: the modules are not needed (output goes over the 2nd UART).
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir.tmp" --wildcards './boot/vmlinuz-*' './boot/config-*' ||
    die "cannot extract the kernel from '$deb'"
  mv "$dir.tmp"/boot/vmlinuz-* "$dir.tmp/vmlinuz"
  mv "$dir.tmp"/boot/config-* "$dir.tmp/config" 2>/dev/null || true
  rm -rf "$dir.tmp/boot"
  echo "$ver" > "$dir.tmp/version"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
fi
echo "package=$pkg"
echo "version=$ver"
echo "kver=$kver"
echo "deb=$deb"
echo "vmlinuz=$dir/vmlinuz"
echo "config=$dir/config"
