#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Usage: table.sh FILE.fst.provenance...   Prints a markdown table of lab captures from their
# provenance files: kernel, memory, workload, events and extfrag events (the guest recorder's
# summary), losses, trace size, wall time.
set -uo pipefail
echo "| kernel | mem | workload | events | extfrag | lost | trace | wall |"
echo "|---|---|---|---|---|---|---|---|"
for p in "$@"; do
  get() { sed -n "s/^$1: //p" "$p" | head -1; }
  rel=$(get kernel.package | sed 's/^linux-image-//')
  ev=$(sed -n 's/^record.summary: \([0-9]*\) events in .*/\1/p' "$p" | head -1)
  ef=$(sed -n 's/^record.summary: by kind: .*extfrag \([0-9]*\).*/\1/p' "$p" | head -1)
  lost=$(sed -n 's/^record.summary: lost \([0-9]*\).*/\1/p' "$p" | head -1)
  fst=${p%.provenance}
  size=$( [ -f "$fst" ] && du -k "$fst" | cut -f1 || echo ?)
  printf '| %s | %s | %s | %s | %s | %s | %s KB | %s s |\n' "$rel" "$(get guest.mem)" "$(get workload)" \
    "${ev:-?}" "${ef:-?}" "${lost:-?}" "$size" "$(get run.seconds)"
done
