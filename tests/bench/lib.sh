# Shared by the bench scripts (sourced, not run).
# KMEM_ARGS: trace-cmd -e arguments for the six kmem page events fragscope records.
KMEM_ARGS=""
for e in mm_page_alloc mm_page_free mm_page_free_batched mm_page_alloc_zone_locked mm_page_pcpu_drain mm_page_alloc_extfrag; do
  KMEM_ARGS="$KMEM_ARGS -e kmem:$e"
done
# best_cpu CMD...: best of 3 CPU seconds (user+sys) of CMD, output discarded. The machine is
# shared, so wall time is noise; one command's CPU time is not.
best_cpu() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys
best = None
for _ in range(3):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    best = t if best is None or t < best else best
print(best)
PY
}
