#!/usr/bin/env bash
# The README's main job. Until record/replay land: show what fragscope offers.
set -euo pipefail
cd "$(dirname "$0")/.."
./fragscope --help
