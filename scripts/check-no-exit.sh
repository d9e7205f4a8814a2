#!/usr/bin/env bash
# Nothing below the CLI calls exit(): only main.c and cmd-*.c may (STYLE.md).
set -euo pipefail
cd "$(dirname "$0")/.."
hits=$(grep -nE '(^|[^_a-zA-Z0-9])exit[[:space:]]*\(' --include='*.c' --include='*.h' -r \
        util allocator traces collector replay viz workload 2>/dev/null | grep -v '^\s*//' || true)
if [ -n "$hits" ]; then
  echo "check: exit() called below the CLI (only main.c and cmd-*.c may):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "check: no exit() below the CLI"
