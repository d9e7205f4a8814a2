#!/usr/bin/env bash
# Runs every benchmark: the C binaries given as arguments, then tests/bench/*.sh.
# Each prints lines "bench NAME VALUE UNIT [vs PEER RATIO]"; other output goes to stderr.
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${FRAGSCOPE:?}"
export FRAGSCOPE FRAGSCOPE_OUTPUT
export FRAGSCOPE_TMP="${FRAGSCOPE_OUTPUT:-.output}/bench-tmp"
mkdir -p "$FRAGSCOPE_TMP"
rc=0
for b in "$@"; do "$b" || { echo "bench: $(basename "$b") failed" >&2; rc=1; }; done
for s in tests/bench/*.sh; do
  case "$(basename "$s")" in run-bench.sh|lib.sh) continue ;; esac
  [ -e "$s" ] || continue
  bash "$s" || { echo "bench: $(basename "$s") failed" >&2; rc=1; }
done
exit $rc
