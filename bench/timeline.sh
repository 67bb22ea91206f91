#!/bin/sh
# bench/timeline.sh -- the cross-device timeline against the documented way
# (seed-sync-event-log.md, "Cross-Device Timeline"): each device's JSON
# export merged with `jq -s 'add | sort_by(.timestamp)'`. Both read the
# same N devices x M events (canonical timestamps, the devices' rows
# interleaved in time) and write a JSON timeline to a file; wall time and
# peak memory (GNU time's %e and %M) are compared. Target (DESIGN.md):
# <= 1/20 the time and <= 1/50 the memory of jq.
#
# Usage: bench/timeline.sh HOST   (env: BENCH_DIR, BENCH_TL_DEVICES [4],
#                                  BENCH_TL_EVENTS [250000] per device)
host=$1
dir=${BENCH_DIR:-bench/out}/timeline
devices=${BENCH_TL_DEVICES:-4}
events=${BENCH_TL_EVENTS:-250000}
mkdir -p "$dir" || exit 2
for tool in jq sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "timeline: skipped (no $tool)"; exit 0; }
done

# The stores (kept between runs, like the query store) and their exports.
inputs=""
exports=""
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
  inputs="$inputs --db $db"
  exports="$exports $json"
  d=$((d + 1))
done
total=$((devices * events))
echo "timeline: $devices devices x $events events ($total rows); files in $dir"

# wall seconds and peak KiB of a command, its output to $dir/out.json
measure() {
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" sh -c "$1" >/dev/null 2>&1
  cat "$dir/time.txt"
}
# Each tool reads its inputs from the page cache, as jq's were just written:
# warm the stores before synclua's runs (jq's run evicts them).
warm() { for f in "$dir"/device*-"$events".db; do cat "$f" >/dev/null; done; }
set -- $(measure "jq -s 'add | sort_by(.timestamp)' $exports > $dir/jq.json")
jq_s=$1 jq_kb=$2
warm
set -- $(measure "$host timeline $inputs --skew none -f json -o $dir/tl.json")
tl_s=$1 tl_kb=$2
warm
set -- $(measure "$host timeline $inputs --skew auto -f json -o $dir/tl-auto.json")
auto_s=$1 auto_kb=$2
echo "timeline  jq -s 'add | sort_by(.timestamp)': $jq_s s, $((jq_kb / 1024)) MiB peak"
echo "timeline  synclua timeline --skew none: $tl_s s, $((tl_kb / 1024)) MiB peak"
echo "timeline  synclua timeline --skew auto: $auto_s s, $((auto_kb / 1024)) MiB peak"
awk -v a="$jq_s" -v b="$tl_s" -v ka="$jq_kb" -v kb="$tl_kb" -v n="$devices" -v m="$events" 'BEGIN {
  t = (b > 0) ? a / b : 0; k = (kb > 0) ? ka / kb : 0
  printf "#result|timeline %dx%d, time|%.2f s|jq %.2f s|%.1fx faster|>= 20x|%s\n", n, m, b, a, t, (t >= 20) ? "met" : "MISSED"
  printf "#result|timeline %dx%d, peak memory|%.0f MiB|jq %.0f MiB|%.1fx less|>= 50x|%s\n", n, m, kb / 1024, ka / 1024, k, (k >= 50) ? "met" : "MISSED"
}'
rm -f "$dir/jq.json" "$dir/tl.json" "$dir/tl-auto.json" "$dir/time.txt"
