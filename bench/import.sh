#!/bin/sh
# bench/import.sh -- `synclua import` of one device's export, 250k and 1M
# events (BENCH_IMPORT_EVENTS), in each format synclua exports (JSON
# --with-device, SQL, NDJSON, CSV), against the baseline: SQLite's own
# shell loading the SQL export of the same events (`sqlite3 NEW.db <
# export.sql`: the file runs as a script, one transaction, the table's
# five indexes). Wall time and peak memory (GNU time's %e and %M) of each
# whole process, into a store that does not exist yet. Target (DESIGN.md):
# >= 100k events/s and <= 64 MiB peak, whatever the size.
#
# Usage: bench/import.sh HOST   (env: BENCH_DIR, BENCH_IMPORT_EVENTS
#                                ["250000 1000000"], BENCH_IMPORT_FORMATS
#                                ["json sql ndjson csv"])
host=$1
dir=${BENCH_DIR:-bench/out}/import
sizes=${BENCH_IMPORT_EVENTS:-250000 1000000}
formats=${BENCH_IMPORT_FORMATS:-json sql ndjson csv}
mkdir -p "$dir" || exit 2
for tool in sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "import: skipped (no $tool)"; exit 0; }
done

# wall seconds and peak KiB of a command
measure() {
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" sh -c "$1" >/dev/null 2>"$dir/err.txt"
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "import: '$1' failed (exit $status):" >&2
    cat "$dir/err.txt" >&2
    exit 1
  fi
  tail -n 1 "$dir/time.txt"
}

for n in $sizes; do
  # The store (kept between runs, like the query store) and its exports:
  # a device's mix of batches (details, model types, counts, a peer and a
  # session), state transitions and errors, a few milliseconds apart.
  db="$dir/source-$n.db"
  if [ ! -f "$db" ]; then
    "$host" -e "assert(require('synclua').open('$db', { mode = 'w' })):close()" || exit 1
    sqlite3 "$db" "
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n)
      INSERT INTO sync_event_log (timestamp, device_id, event_type, category,
        severity, summary, details, correlation_id, peer_device_id,
        model_types, record_count, duration_ms)
      SELECT strftime('%Y-%m-%dT%H:%M:%S', 1764547200 + i / 4, 'unixepoch')
               || '.' || printf('%06d', (i % 4) * 250000 + i % 997) || '+00:00',
             '2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f',
             CASE i % 4 WHEN 3 THEN 'state_transition' WHEN 2 THEN 'sync_error'
                        ELSE 'batch_ingestion' END,
             CASE i % 4 WHEN 3 THEN 'lifecycle' WHEN 2 THEN 'error'
                        ELSE 'data_flow' END,
             CASE i % 4 WHEN 3 THEN 'info' WHEN 2 THEN 'error' ELSE 'debug' END,
             CASE i % 4 WHEN 3 THEN 'Ready → CatchingUp { buffered_count: ' || i % 50 || ' }'
                        WHEN 2 THEN 'Failed to apply entry ' || i || ': parent missing'
                        ELSE 'Ingested batch of ' || (i % 9000 + 1) || ' records ('
                             || (i % 9000 + 1) || ' entry)' END,
             CASE i % 4 WHEN 3 THEN '{\"reason\":\"peer connected\"}'
                        WHEN 2 THEN '{\"error\":\"missing parent\",\"retries\":' || i % 7 || '}'
                        ELSE '{\"models\":{\"entry\":' || (i % 9000 + 1)
                             || '},\"rate\":' || (i % 1000) || '.5}' END,
             CASE WHEN i % 4 < 2 THEN printf('67e55044-10b1-426f-9247-%012d', i / 1000) END,
             CASE WHEN i % 4 < 2 THEN '0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d' END,
             CASE WHEN i % 4 < 2 THEN 'entry' END,
             CASE WHEN i % 4 < 2 THEN i % 9000 + 1 END,
             CASE WHEN i % 4 < 2 THEN i % 5000 END
      FROM n;" || exit 1
  fi
  for f in $formats; do
    file="$dir/export-$n.$f"
    [ -f "$file" ] || "$host" events --db "$db" --limit 0 -f "$f" --with-device \
      -o "$file" >/dev/null || exit 1
  done
  mib=$(( $(wc -c < "$dir/export-$n.json") / 1048576 ))
  echo "import: $n events, one device; the JSON export is $mib MiB; files in $dir"

  # The baseline: SQLite's shell runs the SQL export into a new file.
  rm -f "$dir/base.db"*
  set -- $(measure "sqlite3 $dir/base.db < $dir/export-$n.sql")
  base_s=$1 base_kb=$2
  echo "import  sqlite3 NEW.db < export.sql: $base_s s, $((base_kb / 1024)) MiB peak"
  for f in $formats; do
    rm -f "$dir/new.db"*
    set -- $(measure "$host import $dir/export-$n.$f --db $dir/new.db")
    s=$1 kb=$2
    rows=$(sqlite3 "$dir/new.db" "SELECT count(*) FROM sync_event_log")
    if [ "$rows" != "$n" ]; then
      echo "import: $f: $rows rows imported, expected $n" >&2
      exit 1
    fi
    echo "import  synclua import export.$f: $s s, $((kb / 1024)) MiB peak"
    awk -v f="$f" -v n="$n" -v s="$s" -v kb="$kb" -v bs="$base_s" -v bkb="$base_kb" 'BEGIN {
      r = (s > 0) ? n / s : 0; br = (bs > 0) ? n / bs : 0
      printf "#result|import %d %s, events/s|%.0f ev/s (%.2f s)|sqlite3 < sql %.0f ev/s|%.2fx|>= 100k ev/s|%s\n", n, f, r, s, br, (br > 0) ? r / br : 0, (r >= 100000) ? "met" : "MISSED"
      printf "#result|import %d %s, peak RSS|%.1f MiB|sqlite3 < sql %.1f MiB|%.2fx|<= 64 MiB|%s\n", n, f, kb / 1024, bkb / 1024, (bkb > 0) ? kb / bkb : 0, (kb <= 65536) ? "met" : "MISSED"
    }'
  done
done
rm -f "$dir/new.db"* "$dir/base.db"* "$dir/time.txt" "$dir/err.txt"
