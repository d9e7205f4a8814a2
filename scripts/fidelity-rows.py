#!/usr/bin/env python3
# Rewrites the rows of the README's "## Fidelity" table from traces/golden/NAME.replay.json and
# NAME.simulate.json (regenerate those first). tests/golden/readme-fidelity.sh checks the result.
import json, os, sys
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
path = os.path.join(root, "README.md")
out = []
for line in open(path).read().split("\n"):
    if line.startswith("| `") and ".fst`" in line and line.count("|") == 12:
        cells = [c.strip() for c in line.split("|")[1:-1]]
        name = cells[0].strip("`")[:-4]
        rj = os.path.join(root, "traces/golden", name + ".replay.json")
        if os.path.exists(rj):
            r = json.load(open(rj))
            s = json.load(open(os.path.join(root, "traces/golden", name + ".simulate.json")))
            e = r["end_state"]
            rs = ", ".join("%s %d" % kv for kv in sorted(r["resyncs"].items(), key=lambda kv: -kv[1])) or "none"
            line = "| `%s.fst` | %s | %d | %d | %.4f%% | %.4f%% | %.2f%% | %s | %.2f%% / %.2f%% | %.2f%% | %.1f%% / %.3f |" % (
                name, cells[1], r["events"], r["takes"], 100 * r["decision_agreement"],
                100 * r["placement_agreement"], 100 * r["pcp_head_agreement"], rs,
                100 * e["pageblocks_equal"], 100 * e["free_counts_equal"], 100 * e["free_blocks_equal"],
                100 * s["placement_agreement"], s["simulate"]["extfrag_rel_error"])
    out.append(line)
open(path, "w").write("\n".join(out))
