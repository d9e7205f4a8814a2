#!/usr/bin/env bash
# Checks (and with --install, installs) what fragscope needs to build and test.
# Debian packages only. Prints what it installs.
set -euo pipefail
PKGS=(build-essential pkg-config clang llvm bpftool
      libbpf-dev libelf-dev zlib1g-dev libzstd-dev
      libtraceevent-dev libtracefs-dev libtracecmd-dev
      libncurses-dev libcairo2-dev libcmocka-dev
      trace-cmd tmux python3 linux-perf
      qemu-system-x86 busybox-static xz-utils)	# the last three: fragscope lab (qemu guests)
# package -> probe (pkg-config module or command)
probe() {
  case "$1" in
    build-essential) command -v cc >/dev/null && command -v make >/dev/null ;;
    pkg-config) command -v pkg-config >/dev/null ;;
    clang) command -v clang >/dev/null ;;
    llvm) command -v llvm-strip >/dev/null ;;
    bpftool) command -v bpftool >/dev/null || [ -x /usr/sbin/bpftool ] ;;
    libbpf-dev) pkg-config --exists libbpf ;;
    libelf-dev) pkg-config --exists libelf ;;
    zlib1g-dev) pkg-config --exists zlib ;;
    libzstd-dev) pkg-config --exists libzstd ;;
    libtraceevent-dev) pkg-config --exists libtraceevent ;;
    libtracefs-dev) pkg-config --exists libtracefs ;;
    libtracecmd-dev) pkg-config --exists libtracecmd ;;
    libncurses-dev) pkg-config --exists ncursesw ;;
    libcairo2-dev) pkg-config --exists cairo ;;
    libcmocka-dev) pkg-config --exists cmocka ;;
    trace-cmd) command -v trace-cmd >/dev/null ;;
    linux-perf) command -v perf >/dev/null ;;
    tmux) command -v tmux >/dev/null ;;
    python3) command -v python3 >/dev/null ;;
    qemu-system-x86) command -v qemu-system-x86_64 >/dev/null ;;
    busybox-static) dpkg -s busybox-static >/dev/null 2>&1 ;;
    xz-utils) command -v xz >/dev/null ;;
    *) dpkg -s "$1" >/dev/null 2>&1 ;;
  esac
}
extra=()
for a in "$@"; do case "$a" in --install|--check) ;; *) extra+=("$a") ;; esac; done
missing=()
for p in "${PKGS[@]}" "${extra[@]}"; do probe "$p" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "${1:-}" != "--install" ]; then
  echo "missing: ${missing[*]}"; exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "fragscope: build dependencies missing (${missing[*]}); run 'make deps' as root" >&2
  exit 1
fi
echo "fragscope: installing build dependencies: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "fragscope: installed ${#missing[@]} package(s)"
