# import/export never destroy their input, leave nothing behind when they fail, and say what is
# wrong; info says plainly when a trace is empty. No root needed: text import with --formats.
. "$(dirname "$0")/lib.sh"
G=$(cd "$(dirname "$0")/../.." && pwd)/traces/golden
mkdir -p "$TMP/fmt/kmem/mm_page_free"
cat > "$TMP/fmt/kmem/mm_page_free/format" <<'FMT'
name: mm_page_free
ID: 901
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long pfn;	offset:8;	size:8;	signed:0;
	field:unsigned int order;	offset:16;	size:4;	signed:0;

print fmt: "pfn=0x%lx order=%d", REC->pfn, REC->order
FMT
cat > "$TMP/trace.txt" <<'TXT'
# tracer: nop
             foo-12      [003] .....   100.000001: mm_page_free: pfn=0x1234 order=0
             foo-12      [003] .....   100.000002: mm_page_free: pfn=0x1238 order=2
TXT
sha() { sha256sum "$1" | cut -d' ' -f1; }
gone() { [ ! -e "$1" ] || fail "$2 left '$1' behind"; ls -A "$(dirname "$1")" | grep -q '^\.[^.].*\.......$' && fail "$2 left a temporary file"; true; }

# 1. output = input (same path, symlink, hard link): refused, input untouched
cp "$G/thp-6.18.fst" "$TMP/x.fst"; ln -s x.fst "$TMP/sym.fst"; ln "$TMP/x.fst" "$TMP/hard.fst"
h=$(sha "$TMP/x.fst")
for o in x.fst sym.fst hard.fst; do
  expect_rc 1 $FRAGSCOPE export "$TMP/x.fst" -o "$TMP/$o"
  grep -q "is the input file" "$TMP/err" || fail "export -o $o: no 'is the input file' error"
  [ "$(wc -l < "$TMP/err")" = 1 ] || fail "export -o $o: more than one error line"
  [ "$(sha "$TMP/x.fst")" = "$h" ] || fail "export -o $o changed its input"
done
cp "$TMP/trace.txt" "$TMP/t.txt"; ln -s t.txt "$TMP/t-sym.txt"; ht=$(sha "$TMP/t.txt")
for o in t.txt t-sym.txt; do
  expect_rc 1 $FRAGSCOPE import "$TMP/t.txt" --formats "$TMP/fmt" -o "$TMP/$o"
  grep -q "is the input file" "$TMP/err" || fail "import -o $o: no 'is the input file' error"
  [ "$(sha "$TMP/t.txt")" = "$ht" ] || fail "import -o $o changed its input"
done

# 2. a good import/export replaces an existing OUT, which gets a normal file mode
echo precious > "$TMP/keep.fst"
expect_rc 0 $FRAGSCOPE import "$TMP/trace.txt" --formats "$TMP/fmt" -o "$TMP/keep.fst"
expect_rc 0 $FRAGSCOPE info "$TMP/keep.fst" --json
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["events"]["mm_page_free"]==2, j' "$TMP/out" || fail "import did not replace its output"
[ "$(stat -c %a "$TMP/keep.fst")" = "$(printf '%o' $((0666 & ~$(umask))))" ] || fail "output mode $(stat -c %a "$TMP/keep.fst")"
expect_rc 0 $FRAGSCOPE export "$TMP/keep.fst" -o "$TMP/keep.csv"
[ "$(wc -l < "$TMP/keep.csv")" = 3 ] || fail "export wrote $(wc -l < "$TMP/keep.csv") lines, not 3"

# 3. bad input: one-line error naming the file, non-zero exit, no output
expect_rc 1 $FRAGSCOPE import /etc/passwd --formats "$TMP/fmt" -o "$TMP/p.fst"
grep -q "'/etc/passwd': line 1: .*not a text capture" "$TMP/err" || fail "import /etc/passwd: $(cat "$TMP/err")"
[ "$(wc -l < "$TMP/err")" = 1 ] || fail "import /etc/passwd: more than one line"
gone "$TMP/p.fst" "import /etc/passwd"
expect_rc 1 $FRAGSCOPE import "$TMP/trace.txt" --formats "$TMP/nonexist" -o "$TMP/p.fst"
grep -q "'$TMP/nonexist': No such file or directory" "$TMP/err" || fail "--formats nonexist: $(cat "$TMP/err")"
gone "$TMP/p.fst" "import --formats nonexist"
mkdir -p "$TMP/emptyfmt"
expect_rc 1 $FRAGSCOPE import "$TMP/trace.txt" --formats "$TMP/emptyfmt" -o "$TMP/p.fst"
grep -q "no usable kmem tracepoint format" "$TMP/err" || fail "--formats without formats: $(cat "$TMP/err")"
gone "$TMP/p.fst" "import --formats emptyfmt"
expect_rc 1 $FRAGSCOPE import "$G/thp-6.18.fst" --type text --formats "$TMP/fmt" -o "$TMP/p.fst"	# binary as text
grep -q "thp-6.18.fst': line 1: .*not a text capture" "$TMP/err" || fail "binary as text: $(cat "$TMP/err")"
gone "$TMP/p.fst" "import --type text of a binary"
printf '\x17\x08\x44tracing6\0garbage' > "$TMP/fake.dat"	# trace.dat magic, nothing after
expect_rc 1 $FRAGSCOPE import "$TMP/fake.dat" -o "$TMP/p.fst"
gone "$TMP/p.fst" "import of a broken trace.dat"

# 3b. a failing import or export leaves an existing OUT as it was
echo precious > "$TMP/keep.fst"
expect_rc 1 $FRAGSCOPE import /etc/passwd --formats "$TMP/fmt" -o "$TMP/keep.fst"
[ "$(cat "$TMP/keep.fst")" = precious ] || fail "a failed import overwrote its output"
expect_rc 1 $FRAGSCOPE export "$TMP/no-such.fst" -o "$TMP/keep.fst"
[ "$(cat "$TMP/keep.fst")" = precious ] || fail "a failed export overwrote its output"
ls -A "$TMP" | grep -q '^\.keep\.fst\.' && fail "a temporary output file was left behind"

# 4. a valid but empty trace: info says so (exit 0), --json has "empty": true
printf '# tracer: nop\n' > "$TMP/empty.txt"
expect_rc 0 $FRAGSCOPE import "$TMP/empty.txt" --formats "$TMP/fmt" -o "$TMP/empty.fst"
grep -q "no kmem page events" "$TMP/err" || fail "import of an empty capture did not warn"
expect_rc 0 $FRAGSCOPE info "$TMP/empty.fst"
grep -q "^events:     0 (no page events and no snapshots: an empty trace)" "$TMP/out" || { cat "$TMP/out"; fail "info does not say the trace is empty"; }
grep -q "no page events and no snapshots" "$TMP/err" || fail "info printed no warning for an empty trace"
expect_rc 0 $FRAGSCOPE info --json "$TMP/empty.fst"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["empty"] is True and j["events_total"]==0, j' "$TMP/out" || fail "info --json: no empty: true"
expect_rc 0 $FRAGSCOPE info --json "$G/thp-6.18.fst"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["empty"] is False, j' "$TMP/out" || fail "a full trace is called empty"
# 5. a damaged trace: the messages name the file once, not "'t.fst': 't.fst': offset ..."
head -c 700000 "$G/thp-6.18.fst" > "$TMP/t.fst"
for c in "export $TMP/t.fst -o $TMP/t.csv" "info $TMP/t.fst"; do
  expect_rc 0 $FRAGSCOPE $c
  grep -q "t.fst': offset [0-9]*: file ends inside a section" "$TMP/err" || fail "$c: $(cat "$TMP/err")"
  [ "$(grep -o "t\.fst'" "$TMP/err" | wc -l)" = 1 ] || fail "$c names the file more than once: $(cat "$TMP/err")"
done
# 6. OUT through a symlink: the file it names gets the output, the link stays; OUT that is not a
# regular file (here a link to /dev/null) is written in place, never replaced
expect_rc 0 $FRAGSCOPE import "$TMP/trace.txt" --formats "$TMP/fmt" -o "$TMP/good.fst"
echo old > "$TMP/real.csv"; ln -s real.csv "$TMP/link.csv"
expect_rc 0 $FRAGSCOPE export "$TMP/good.fst" -o "$TMP/link.csv"
[ -L "$TMP/link.csv" ] || fail "export replaced the symlink OUT by a file"
[ "$(wc -l < "$TMP/real.csv")" = 3 ] || fail "export did not write the file the symlink names"
ln -s /dev/null "$TMP/null"
expect_rc 0 $FRAGSCOPE export "$TMP/good.fst" -o "$TMP/null"
expect_rc 0 $FRAGSCOPE import "$TMP/trace.txt" --formats "$TMP/fmt" -o "$TMP/null"
expect_rc 1 $FRAGSCOPE import /etc/passwd --formats "$TMP/fmt" -o "$TMP/null"
[ -L "$TMP/null" ] && [ -c /dev/null ] || fail "an output to a device was replaced"
ls -A "$TMP" | grep -q '^\.' && fail "temporary files left: $(ls -A "$TMP" | grep '^\.')"
exit 0
