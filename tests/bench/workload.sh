#!/usr/bin/env bash
# `fragscope workload`: how fast each workload runs and, for fragment, how soon and how often the
# kernel steals (kmem:mm_page_alloc_extfrag by the workload's process, through a tracefs
# instance of our own; root only). One line per figure: bench NAME VALUE UNIT.
# BENCH_WORKLOAD_MEM (default 1G) sets the budget of the fragment runs.
set -uo pipefail
PY=$(command -v /usr/bin/python3 || command -v python3)
: "${FRAGSCOPE:?}"
TMP=$(mktemp -d "${FRAGSCOPE_TMP:-/tmp}/bench-workload.XXXX")
MEM=${BENCH_WORKLOAD_MEM:-1G}
T=/sys/kernel/tracing
I=
cleanup() { [ -n "$I" ] && { echo 0 >$I/tracing_on; rmdir $I; } 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

# elapsed and fill rate of each workload at 256M (no root needed)
for w in fragment thp forks mixed; do
  $FRAGSCOPE workload $w --mem 256M --pipes 64M --json >"$TMP/$w.json" || { echo "bench: workload $w failed" >&2; exit 1; }
  $PY - "$TMP/$w.json" "$w" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1])); w = sys.argv[2]
print("bench workload_%s_256M_elapsed %.3f s" % (w, j["elapsed"]))
fill = next((p for p in j["phases"] if p["name"] in ("fill", "thp-fill")), None)
if fill and fill["end"] > fill["start"]:
    b = j["file_bytes"] + j["anon_bytes"] if fill["name"] == "fill" else j["thp_touched"]
    print("bench workload_%s_fill_rate %.0f MiB/s" % (w, b / (1 << 20) / (fill["end"] - fill["start"])))
if w == "forks":
    ph = next(p for p in j["phases"] if p["name"] == "forks")
    print("bench workload_forks_rate %.0f forks/s" % (j["forks"] / (ph["end"] - ph["start"])))
EOF
done

if [ "$(id -u)" != 0 ]; then
  echo "bench workload: not root, no steal figures (needs tracefs)" >&2
  exit 0
fi
[ -d $T/instances ] || mount -t tracefs nodev $T 2>/dev/null || { echo "bench workload: no tracefs" >&2; exit 0; }
I=$T/instances/fragscope-bench-$$
mkdir $I || exit 1
echo mono >$I/trace_clock
echo 4096 >$I/buffer_size_kb
echo 1 >$I/events/kmem/mm_page_alloc_extfrag/enable
for mem in 64M $MEM; do
  echo >$I/trace
  echo 1 >$I/tracing_on
  $FRAGSCOPE workload fragment --mem $mem --json >"$TMP/f.json" || { echo "bench: fragment --mem $mem failed" >&2; exit 1; }
  echo 0 >$I/tracing_on
  $PY - "$TMP/f.json" $I/trace $mem <<'EOF'
import json, re, sys
j = json.load(open(sys.argv[1])); mem = sys.argv[3]
t0 = j["start_mono_ns"] / 1e9
pipes = next(p for p in j["phases"] if p["name"] == "pipes")
p0 = pipes["start_mono_ns"] / 1e9
ts = []
for line in open(sys.argv[2]):
    m = re.match(r"\s*.+?-(\d+)\s+\[\d+\].*?\s(\d+\.\d+): mm_page_alloc_extfrag:", line)
    if m and int(m.group(1)) == j["pid"]:
        ts.append(float(m.group(2)))
after = [t for t in ts if t >= p0]
print("bench workload_fragment_%s_elapsed %.3f s" % (mem, j["elapsed"]))
print("bench workload_fragment_%s_pipes %d MiB" % (mem, j["pipe_bytes"] >> 20))
print("bench workload_fragment_%s_extfrag %d events" % (mem, len(ts)))
if after:
    print("bench workload_fragment_%s_first_steal %.3f s" % (mem, min(after) - t0))
    print("bench workload_fragment_%s_first_steal_after_pipes %.3f s" % (mem, min(after) - p0))
else:
    print("bench workload_fragment_%s_first_steal nan s" % mem)
EOF
done
