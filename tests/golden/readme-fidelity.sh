# Every figure of the README's "## Fidelity" table is what `replay --json` (and `--mode
# simulate`) gives for that golden trace: events, takes, decision, placement, pcp head, resyncs by
# cause, end state, simulate's same page / extfrag error. replay-golden.sh checks that replay
# --json equals traces/golden/NAME.replay.json / .simulate.json, so this compares with those.
source "$(dirname "$0")/../e2e/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
python3 - "$ROOT" <<'PY' || fail "README fidelity table differs from replay --json"
import json, os, re, sys
root = sys.argv[1]
lines = open(os.path.join(root, "README.md")).read().split("\n")
sec = lines.index("## Fidelity")
head = next(i for i in range(sec, len(lines)) if lines[i].startswith("| trace |"))
cols = [c.strip() for c in lines[head].split("|")[1:-1]]
ipf = cols.index("end: pageblocks_equal / free_counts_equal")
ifb = cols.index("end: free_blocks_equal")
rows = 0
for ln in lines[head + 2:]:
    if not ln.startswith("| `"):
        break
    cells = [c.strip() for c in ln.split("|")[1:-1]]
    name = re.match(r"`(.+)\.fst`", cells[0]).group(1)
    r = json.load(open(os.path.join(root, "traces/golden", name + ".replay.json")))
    sim = json.load(open(os.path.join(root, "traces/golden", name + ".simulate.json")))
    e = r["end_state"]
    def pct(v, digits):
        return "%.*f%%" % (digits, 100 * v)
    checks = {
        "events": str(r["events"]), "takes": str(r["takes"]),
        "decision": pct(r["decision_agreement"], 4), "placement": pct(r["placement_agreement"], 4),
        "pcp head": pct(r["pcp_head_agreement"], 2),
        "simulate: same page / extfrag error": "%s / %.3f" % (
            pct(sim["placement_agreement"], 1), sim["simulate"]["extfrag_rel_error"]),
    }
    for col, want in checks.items():
        got = cells[cols.index(col)]
        assert got == want, "%s: README says %s %s, replay --json %s" % (name, col, got, want)
    said = cells[cols.index("resyncs by cause")]
    said = {} if said == "none" else {k: int(v) for k, v in (x.rsplit(" ", 1) for x in said.split(", "))}
    assert said == r["resyncs"], "%s: README says resyncs %s, replay --json %s" % (name, said, r["resyncs"])
    want = "%.2f%% / %.2f%%" % (100 * e["pageblocks_equal"], 100 * e["free_counts_equal"])
    assert cells[ipf] == want, "%s: README says %s, replay --json %s" % (name, cells[ipf], want)
    want = "%.2f%%" % (100 * e["free_blocks_equal"])
    assert cells[ifb] == want, "%s: README says %s, replay --json %s" % (name, cells[ifb], want)
    rows += 1
golden = [f for f in os.listdir(os.path.join(root, "traces/golden")) if f.endswith(".replay.json")]
assert rows == len(golden), "%d rows for %d golden traces" % (rows, len(golden))
PY
exit 0
