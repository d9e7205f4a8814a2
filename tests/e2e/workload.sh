# `fragscope workload`: every workload small, its --json summary, determinism, cleanup
# (files, mounts, children), SIGTERM, --dir, usage errors, and a run as an unprivileged user.
. "$(dirname "$0")/lib.sh"

# jget FILE EXPR: a value from a JSON file (python3 is a build dependency; Debian's own is
# preferred to a wrapper such as a pyenv shim, which costs half a second a call)
PY=$(command -v /usr/bin/python3 || command -v python3)
jget() { $PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# no process whose command line holds this run's unique seed may survive it
SEED=$((900000 + $$ % 99999))
no_leftover_procs() {
  SEED_ARG="--seed $1" $PY - <<'PY' || fail "a process of seed $1 still runs"
import os, sys
want = os.environ["SEED_ARG"].split()
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        argv = open("/proc/%s/cmdline" % pid, "rb").read().decode(errors="replace").split("\0")
    except OSError:
        continue
    if any(argv[i:i + 2] == want for i in range(len(argv))):
        print("process %s: %s" % (pid, " ".join(argv)))
        sys.exit(1)
PY
}
check_clean() {	# JSON file: cleaned up, folder gone, no mount left, no process left
  local j=$1 dir
  [ "$(jget "$j" "j['cleaned_up']")" = True ] || fail "$j: cleaned_up is not true"
  dir=$(jget "$j" "j['dir']")
  if [ -n "$dir" ]; then
    [ -e "$dir" ] && fail "$j: '$dir' still exists"
    grep -q " $dir " /proc/self/mountinfo && fail "$j: '$dir' still mounted"
  fi
  no_leftover_procs "$2"
}

# usage errors
expect_rc 2 $FRAGSCOPE workload
expect_rc 2 $FRAGSCOPE workload frobnicate --mem 64M
grep -q "unknown workload 'frobnicate'" "$TMP/err" || fail "no message for an unknown workload"
expect_rc 2 $FRAGSCOPE workload fragment --mem 12Q
grep -q "bad --mem '12Q'" "$TMP/err" || fail "no message for a bad --mem"
expect_rc 2 $FRAGSCOPE workload fragment --duration -1
expect_rc 2 $FRAGSCOPE workload fragment extra --mem 64M
# getopt's own messages are replaced by one line naming the option
expect_rc 2 $FRAGSCOPE workload fragment -Z
grep -q "^fragscope workload: unknown option '-Z'$" "$TMP/err" || { cat "$TMP/err"; fail "no one-line message for -Z"; }
grep -q "invalid option" "$TMP/err" && fail "getopt's own message is still printed"
expect_rc 2 $FRAGSCOPE workload fragment --mem
grep -q "^fragscope workload: option '--mem' needs a value$" "$TMP/err" || { cat "$TMP/err"; fail "no one-line message for --mem without a value"; }
expect_rc 2 $FRAGSCOPE workload fragment --no-such-option
grep -q "^fragscope workload: unknown option '--no-such-option'$" "$TMP/err" || { cat "$TMP/err"; fail "no one-line message for an unknown long option"; }
expect_rc 1 $FRAGSCOPE workload fragment --mem 100T
grep -q "more than 90% of MemAvailable" "$TMP/err" || fail "a budget of 100T was not refused: $(cat "$TMP/err")"
expect_rc 0 $FRAGSCOPE help workload
for o in --mem --pipes --seed --duration --hold --dir --json --quiet --forks; do
  grep -q -- "$o" "$TMP/out" || fail "help workload does not document $o"
done

# --dry-run resolves the plan from the options alone
expect_rc 0 $FRAGSCOPE workload --json --mem 64M --pipes 32M fragment --dry-run
[ "$(jget "$TMP/out" "j['plan']['file_bytes'], j['plan']['anon_bytes'], j['plan']['pipe_bytes'], j['plan']['forks']")" = \
  "(50331648, 16777216, 33554432, 32)" ] || fail "fragment plan for 64M: $(cat "$TMP/out")"

# fragment: 48 MiB of 64 KiB files and 16 MiB anon, half freed, 32 MiB of pipes, 32 forks
expect_rc 0 $FRAGSCOPE workload fragment --mem 64M --pipes 32M --seed $SEED --json
cp "$TMP/out" "$TMP/frag1.json"
[ "$(jget "$TMP/frag1.json" "j['files'], j['file_bytes'], j['files_unlinked'], j['anon_bytes'], j['anon_chunks_freed']")" = \
  "(768, 50331648, 384, 16777216, 128)" ] || fail "fragment fill/holes: $(cat "$TMP/frag1.json")"
[ "$(jget "$TMP/frag1.json" "j['pipes'], j['pipe_bytes'], j['forks'], j['timed_out'], j['interrupted']")" = \
  "(32, 33554432, 32, False, False)" ] || fail "fragment pipes/forks: $(cat "$TMP/frag1.json")"
[ "$(jget "$TMP/frag1.json" "[p['name'] for p in j['phases']]")" = "['fill', 'holes', 'pipes', 'forks', 'cleanup']" ] ||
  fail "fragment phases: $(jget "$TMP/frag1.json" "j['phases']")"
check_clean "$TMP/frag1.json" $SEED

# same options, same requests: the summaries agree but for times, the folder and machine state
expect_rc 0 $FRAGSCOPE workload fragment --mem 64M --pipes 32M --seed $SEED --json
strip='{k:v for k,v in j.items() if k not in ("elapsed","start_mono_ns","phases","dir","pid","unmovable_free_end")} | {"plan": {k:v for k,v in j["plan"].items() if k not in ("mem_available","unmovable_free")}}'
[ "$(jget "$TMP/frag1.json" "$strip")" = "$(jget "$TMP/out" "$strip")" ] || fail "two runs with seed $SEED differ"

# another seed: the same sizes in another order
expect_rc 0 $FRAGSCOPE workload fragment --mem 64M --pipes 32M --seed $((SEED + 1)) --json
[ "$(jget "$TMP/out" "j['files'], j['anon_bytes'], j['pipe_bytes']")" = "(768, 16777216, 33554432)" ] ||
  fail "seed $((SEED + 1)): other sizes"
[ "$(jget "$TMP/out" "j['sequence']")" != "$(jget "$TMP/frag1.json" "j['sequence']")" ] ||
  fail "seeds $SEED and $((SEED + 1)) gave the same order of steps"

# thp, forks, mixed
expect_rc 0 $FRAGSCOPE workload thp --mem 64M --seed $SEED --json
[ "$(jget "$TMP/out" "j['thp_touched'], j['thp_extents_freed'], j['anon_chunks_freed']")" = "(67108864, 8, 256)" ] ||
  fail "thp: $(cat "$TMP/out")"
if grep -qE '\[(always|madvise)\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
  [ "$(jget "$TMP/out" "j['thp_bytes'] > 0")" = True ] || fail "thp: no huge page at all with THP enabled"
fi
check_clean "$TMP/out" $SEED
mode=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
if [ -n "$mode" ] && [ "$mode" != never ]; then	# --enable-thp changes nothing then
  expect_rc 0 $FRAGSCOPE workload thp --mem 16M --enable-thp --seed $SEED --json
  [ "$(jget "$TMP/out" "j['thp_mode'], j['thp_switched']")" = "('$mode', False)" ] || fail "--enable-thp: $(cat "$TMP/out")"
  grep -q "\[$mode\]" /sys/kernel/mm/transparent_hugepage/enabled || fail "--enable-thp changed the THP mode"
fi
expect_rc 0 $FRAGSCOPE workload forks --mem 64M --forks 100 --seed $SEED --json
[ "$(jget "$TMP/out" "j['forks']")" = 100 ] || fail "forks: $(cat "$TMP/out")"
check_clean "$TMP/out" $SEED
expect_rc 0 $FRAGSCOPE workload mixed --mem 64M --pipes 16M --seed $SEED --json
[ "$(jget "$TMP/out" "j['files'] > 0, j['pipe_bytes'], j['forks'], len(j['phases'])")" = "(True, 16777216, 64, 8)" ] ||
  fail "mixed: $(cat "$TMP/out")"
check_clean "$TMP/out" $SEED

# --dir: a new folder inside DIR, removed afterwards, DIR kept
mkdir -p "$TMP/d"
expect_rc 0 $FRAGSCOPE workload fragment --mem 16M --pipes 4M --dir "$TMP/d" --seed $SEED --json
case "$(jget "$TMP/out" "j['dir']")" in "$TMP/d/fragscope-wl."*) ;; *) fail "--dir not used: $(jget "$TMP/out" "j['dir']")" ;; esac
[ "$(jget "$TMP/out" "j['private_tmpfs']")" = False ] || fail "--dir mounted a tmpfs"
check_clean "$TMP/out" $SEED
[ -d "$TMP/d" ] && [ -z "$(ls -A "$TMP/d")" ] || fail "--dir folder not left empty"

# --duration bounds a run; SIGTERM stops one, which cleans up and exits 128+15
expect_rc 0 $FRAGSCOPE workload fragment --mem 16M --pipes 4M --hold 30 --duration 1 --seed $SEED --json
[ "$(jget "$TMP/out" "j['timed_out'], j['elapsed'] < 10")" = "(True, True)" ] || fail "--duration 1: $(cat "$TMP/out")"
check_clean "$TMP/out" $SEED
$FRAGSCOPE workload fragment --mem 16M --pipes 4M --hold 60 --seed $SEED --json >"$TMP/term.json" 2>"$TMP/err" &
pid=$!
sleep 1.5	# a 16M run reaches its hold in well under a second
kill -TERM $pid
wait $pid; rc=$?
[ $rc = 143 ] || fail "SIGTERM: exit $rc, expected 143 ($(cat "$TMP/err"))"
[ "$(jget "$TMP/term.json" "j['interrupted']")" = True ] || fail "SIGTERM: not reported as interrupted"
check_clean "$TMP/term.json" $SEED

# as an unprivileged user: no tmpfs of our own, files under /dev/shm or /tmp
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  chmod o+rx "$TMP"
  if setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$FRAGSCOPE"; then
    setpriv --reuid=65534 --regid=65534 --clear-groups $FRAGSCOPE workload fragment --mem 16M --pipes 4M \
      --seed $SEED --json >"$TMP/user.json" 2>"$TMP/err" || fail "as nobody: $(cat "$TMP/err")"
    [ "$(jget "$TMP/user.json" "j['private_tmpfs'], j['files']")" = "(False, 192)" ] || fail "as nobody: $(cat "$TMP/user.json")"
    check_clean "$TMP/user.json" $SEED
  else
    echo "note: $FRAGSCOPE is not executable by nobody; unprivileged run not tested"
  fi
fi
exit 0
