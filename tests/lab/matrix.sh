#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make lab`: the full kernel-lab matrix, one qemu at a time (CPU is scarce), deterministic mode.
#   LAB_KERNELS   (default "6.1 6.12")
#   LAB_MEMS      (default "256M 512M 1G")
#   LAB_WORKLOADS (default "fragment thp forks mixed")
#   LAB_OUT       where the traces go (default .output/lab)
#   LAB_GOLDEN=1  write lab-KERNEL-MEM-WORKLOAD.fst (+ .provenance) into traces/golden/ instead
# Then repeats the first configuration and checks that both runs give identical event streams.
# Prints one line per run and a closing "N ok, N failed"; exits non-zero if any run failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
FRAGSCOPE=${FRAGSCOPE:-./fragscope}
kernels=${LAB_KERNELS:-6.1 6.12}
mems=${LAB_MEMS:-256M 512M 1G}
workloads=${LAB_WORKLOADS:-fragment thp forks mixed}
out=${LAB_OUT:-.output/lab}
[ "${LAB_GOLDEN:-0}" = 1 ] && out=traces/golden
mkdir -p "$out" .output/lab/logs
ok=0 failed=0 first= provs=()
for k in $kernels; do
  for m in $mems; do
    for w in $workloads; do
      name="lab-$k-$m-$w"
      [ -z "$first" ] && first="$k $m $w"
      log=.output/lab/logs/$name.log
      if "$FRAGSCOPE" lab run --kernel "$k" --mem "$m" --workload "$w" --deterministic \
           -o "$out/$name.fst" >"$log" 2>&1; then
        ok=$((ok + 1)); provs+=("$out/$name.fst.provenance")
        printf 'ok   %-28s %s\n' "$name" "$(grep "^$out/$name.fst:" "$log" | cut -d: -f2-)"
      else
        failed=$((failed + 1))
        printf 'FAIL %-28s (log: %s)\n' "$name" "$log"; tail -15 "$log" | sed 's/^/    /'
      fi
    done
  done
done

# determinism: the first configuration once more, compared event by event
if [ -n "$first" ] && [ "${LAB_GOLDEN:-0}" != 1 ]; then
  set -- $first
  a="$out/lab-$1-$2-$3.fst" b=.output/lab/again.fst
  same=no
  if [ -s "$a" ] && "$FRAGSCOPE" lab run --kernel "$1" --mem "$2" --workload "$3" --deterministic -o "$b" \
       >.output/lab/logs/again.log 2>&1; then
    # the event streams (export), or the whole files when this tree has no export yet
    if "$FRAGSCOPE" export "$a" --format csv -o .output/lab/a.csv 2>/dev/null &&
       "$FRAGSCOPE" export "$b" --format csv -o .output/lab/b.csv; then
      cmp -s .output/lab/a.csv .output/lab/b.csv && same="$(wc -l < .output/lab/a.csv) identical exported lines"
    else
      cmp -s "$a" "$b" && same="identical trace files"
    fi
  fi
  if [ "$same" != no ]; then
    ok=$((ok + 1)); echo "ok   determinism: two runs of lab-$1-$2-$3 give $same"
  else
    failed=$((failed + 1)); echo "FAIL determinism: two runs of lab-$1-$2-$3 differ (or could not be compared)"
  fi
fi
[ ${#provs[@]} -gt 0 ] && tests/lab/table.sh "${provs[@]}"
echo "$ok ok, $failed failed"
[ "$failed" = 0 ]
