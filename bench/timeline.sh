#!/bin/sh
# bench/timeline.sh -- the cross-device timeline against the two ways a user
# has without synclua, on the same N devices x M events (canonical
# timestamps, the devices' rows interleaved in time):
#  - the documented way (seed-sync-event-log.md, "Cross-Device Timeline"):
#    each device's JSON export merged with `jq -s 'add | sort_by(.timestamp)'`;
#  - lnav (Debian's `lnav`), given each device's NDJSON export (oldest
#    first) and the format bench/lnav/synclua_ndjson.json, asked through its
#    SQL for the merged timeline (ORDER BY log_time) written as CSV.
# Each writes the whole timeline to a file, and so does `synclua timeline`
# in each of its output formats; wall time and peak memory (GNU time's %e
# and %M) are compared. Targets (issue 13): in every output format >= 40x
# faster than jq and >= 10x faster than lnav; memory flat, <= 1/50 of jq's
# (DESIGN.md).
#
# Usage: bench/timeline.sh HOST   (env: BENCH_DIR, BENCH_TL_DEVICES [4],
#                                  BENCH_TL_EVENTS [250000] per device)
host=$1
dir=${BENCH_DIR:-bench/out}/timeline
devices=${BENCH_TL_DEVICES:-4}
events=${BENCH_TL_EVENTS:-250000}
# The format file sits beside this script (bench/run calls it by its path).
lnav_format=${0%/*}/lnav/synclua_ndjson.json
mkdir -p "$dir" || exit 2
for tool in jq sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "timeline: skipped (no $tool)"; exit 0; }
done
# lnav is the second baseline, not a condition: without it the jq
# comparison still runs.
have_lnav=0
command -v lnav >/dev/null && have_lnav=1

# The stores (kept between runs, like the query store) and their exports:
# JSON for jq, NDJSON (one event a line, what lnav reads) for lnav. The
# exports are newest first; lnav is given each NDJSON export reversed, oldest
# first, as a log is written. On the exports as they are, lnav sorts its
# index against the file's order and then reads every row back out of order:
# 377 s for the 4 x 250k, against 24 s oldest first under the same load
# (2026-12-06), which would flatter synclua. So lnav is measured on its
# best case.
inputs=""
exports=""
ndjsons=""
d=1
while [ "$d" -le "$devices" ]; do
  db="$dir/device$d-$events.db"
  if [ ! -f "$db" ]; then
    "$host" -e "assert(require('synclua').open('$db', { mode = 'w' })):close()" || exit 1
    sqlite3 "$db" "
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $events)
      INSERT INTO sync_event_log (timestamp, device_id, event_type, category,
        severity, summary, details, peer_device_id, model_types,
        record_count, duration_ms)
      SELECT strftime('%Y-%m-%dT%H:%M:%S', 1764547200 + i * 2.4 + $d * 0.3, 'unixepoch')
               || '.' || printf('%03d', (i * 7 + $d) % 1000 + 1) || '+00:00',
             printf('%08d-0000-4000-8000-00000000000%d', $d, $d),
             'batch_ingestion', 'data_flow', 'debug',
             'Ingested batch of ' || (i % 9000 + 1) || ' records (' || (i % 9000 + 1) || ' entry)',
             '{\"models\":{\"entry\":' || (i % 9000 + 1) || '}}',
             '0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d', 'entry', i % 9000 + 1, i % 5000
      FROM n;" || exit 1
  fi
  json="$dir/device$d-$events.json"
  [ -f "$json" ] || "$host" events --db "$db" --limit $((events + 1)) \
    -f json --with-device -o "$json" >/dev/null || exit 1
  ndjson="$dir/device$d-$events.oldest-first.ndjson"
  if [ "$have_lnav" = 1 ] && [ ! -f "$ndjson" ]; then
    "$host" events --db "$db" --limit $((events + 1)) -f ndjson \
      --with-device -o "$dir/export.ndjson" >/dev/null &&
      tac "$dir/export.ndjson" >"$ndjson.tmp" && mv "$ndjson.tmp" "$ndjson" ||
      { rm -f "$dir/export.ndjson" "$ndjson.tmp"; exit 1; }
    rm -f "$dir/export.ndjson"
  fi
  inputs="$inputs --db $db"
  exports="$exports $json"
  ndjsons="$ndjsons $ndjson"
  d=$((d + 1))
done
total=$((devices * events))
echo "timeline: $devices devices x $events events ($total rows); files in $dir"

# wall seconds and peak KiB of a command, its output to a file in $dir
measure() {
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" sh -c "$1" >/dev/null 2>&1
  cat "$dir/time.txt"
}
# Each tool reads its inputs from the page cache, as jq's were just written:
# warm a tool's inputs before its run (the previous run may evict them).
warm() { for f in "$@"; do cat "$f" >/dev/null; done; }
# the lines of a file (its rows: nothing in these events holds a line break)
lines() { wc -l <"$1" | tr -d ' '; }
set -- $(measure "jq -s 'add | sort_by(.timestamp)' $exports > $dir/jq.json")
jq_s=$1 jq_kb=$2
rm -f "$dir/jq.json"
echo "timeline  jq -s 'add | sort_by(.timestamp)': $jq_s s, $((jq_kb / 1024)) MiB peak"

# lnav: a private home (created with .lnav/ in it, which lnav then takes
# as its configuration directory whatever XDG_CONFIG_HOME says) and the
# format under an include directory (-I DIR/formats/*/*.json), so the
# user's lnav setup is neither read nor changed, and each run starts from
# the same empty state. -n: headless; -q: the query's result is not
# printed to stdout as well; TZ=UTC: log_time in UTC, as the exports are.
# lnav exits 0 even when a command fails, so the CSV's rows are counted.
lnav_s="" lnav_kb="" lnav_bad=""
if [ "$have_lnav" = 0 ]; then
  echo "timeline: lnav skipped (not installed)"
elif [ ! -f "$lnav_format" ]; then
  echo "timeline: lnav skipped (no $lnav_format)"
else
  rm -rf "$dir/lnav"
  mkdir -p "$dir/lnav/home/.lnav" "$dir/lnav/include/formats/synclua" || exit 2
  cp "$lnav_format" "$dir/lnav/include/formats/synclua/" || exit 2
  # synclua's CSV columns, in its order (summary is the format's body).
  sql="SELECT id, log_time AS timestamp, device_id, event_type, category,"
  sql="$sql severity, log_body AS summary, details, correlation_id,"
  sql="$sql peer_device_id, model_types, record_count, duration_ms"
  sql="$sql FROM synclua_ndjson ORDER BY log_time"
  warm $ndjsons
  set -- $(measure "HOME=$dir/lnav/home TZ=UTC lnav -n -q -I $dir/lnav/include \
    -c ';$sql' -c ':write-csv-to $dir/lnav.csv' $ndjsons")
  lnav_s=$1 lnav_kb=$2
  rows=0
  [ -f "$dir/lnav.csv" ] && rows=$(($(lines "$dir/lnav.csv") - 1))
  rm -rf "$dir/lnav.csv" "$dir/lnav"
  echo "timeline  lnav -n (SQL ORDER BY log_time, :write-csv-to): $lnav_s s, $((lnav_kb / 1024)) MiB peak, $rows rows"
  [ "$rows" = "$total" ] || {
    lnav_bad="lnav wrote $rows of $total rows"
    echo "timeline: $lnav_bad: the comparison with lnav fails"
  }
fi

# synclua: every output format with clocks as they are (the rows the
# baselines sort), and JSON once more with the default clock correction.
# The row-per-line formats are counted as lnav's CSV is.
for run in "text none" "json none" "ndjson none" "csv none" "sql none" \
           "markdown none" "json auto"; do
  set -- $run
  fmt=$1 skew=$2
  warm "$dir"/device*-"$events".db
  out="$dir/tl.$fmt"
  set -- $(measure "$host timeline $inputs --skew $skew -f $fmt -o $out")
  s=$1 kb=$2
  note=""
  case $fmt in
  ndjson) want=$total ;;
  csv) want=$((total + 1)) ;;
  *) want="" ;;
  esac
  if [ ! -f "$out" ]; then
    note=" (WRONG: no output)"
  elif [ -n "$want" ] && [ "$(lines "$out")" != "$want" ]; then
    note=" (WRONG: $(lines "$out") lines, expected $want)"
  fi
  rm -f "$out"
  echo "timeline  synclua timeline -f $fmt --skew $skew: $s s, $((kb / 1024)) MiB peak$note"
  # One line per comparison: vs jq (time and memory), vs lnav (time).
  # (Short labels: bench/run's summary gives the first column 38 places.)
  what="timeline $fmt"
  [ "$skew" = none ] || what="$what skew=$skew"
  awk -v what="$what" \
      -v s="$s" -v kb="$kb" -v js="$jq_s" -v jkb="$jq_kb" \
      -v ls="$lnav_s" -v lkb="$lnav_kb" -v bad="$lnav_bad" -v note="$note" '
  # Ratios are shown rounded down, so a 9.99x that misses 10x never reads
  # "10.0x ... MISSED".
  function down(x, p) { return int(x * p + 1e-9) / p }
  BEGIN {
    v = (note != "") ? "WRONG OUTPUT" : ""
    t = (s > 0) ? js / s : 0; k = (kb > 0) ? jkb / kb : 0
    td = down(t, 10); kd = down(k, 1)
    printf "  vs jq: %.1fx faster (target >= 40x: %s), %.0fx less memory (target >= 50x: %s)\n", td, (t >= 40) ? "met" : "missed", kd, (k >= 50) ? "met" : "missed"
    printf "#result|%s, time vs jq|%.2f s|jq %.2f s|%.1fx faster|>= 40x|%s\n", what, s, js, td, v != "" ? v : (t >= 40) ? "met" : "MISSED"
    printf "#result|%s, memory vs jq|%.0f MiB|jq %.0f MiB|%.0fx less|>= 50x|%s\n", what, kb / 1024, jkb / 1024, kd, v != "" ? v : (k >= 50) ? "met" : "MISSED"
    if (ls == "" && bad == "") exit
    if (bad != "") {
      printf "  vs lnav: no comparison (%s)\n", bad
      printf "#result|%s, time vs lnav|%.2f s|%s|-|>= 10x|FAILED\n", what, s, bad
      exit
    }
    l = (s > 0) ? ls / s : 0; m = (kb > 0) ? lkb / kb : 0
    ld = down(l, 10); md = down(m, 1)
    printf "  vs lnav: %.1fx faster (target >= 10x: %s), %.0fx less memory\n", ld, (l >= 10) ? "met" : "missed", md
    printf "#result|%s, time vs lnav|%.2f s|lnav %.2f s (%.0f MiB)|%.1fx faster|>= 10x|%s\n", what, s, ls, lkb / 1024, ld, v != "" ? v : (l >= 10) ? "met" : "MISSED"
  }'
done
rm -f "$dir/time.txt"
