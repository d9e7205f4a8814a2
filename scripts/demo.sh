#!/usr/bin/env bash
# The README's main job: a golden trace recorded on a real kernel (traces/golden/), replayed
# through the allocator model in follow mode with its fidelity figures, then its statistics.
set -euo pipefail
cd "$(dirname "$0")/.."
T=traces/golden/fragment-nolosses-6.18.fst
echo "== fragscope info $T"
./fragscope info "$T" | sed -n '1,4p'
echo
echo "== fragscope replay $T   (follow mode: the model predicts every take the kernel makes)"
./fragscope replay "$T"
echo
echo "== fragscope stat $T"
./fragscope stat "$T"
