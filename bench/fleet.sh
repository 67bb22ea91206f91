#!/bin/sh
# bench/fleet.sh -- the PostgreSQL fleet store (issue 16), on a throwaway
# cluster of its own (spec/pg_cluster: initdb in a temporary folder, a
# Unix socket only, fsync off; stopped and removed on exit):
#  1. `synclua push` of one device's store of BENCH_PUSH_EVENTS events
#     into an empty database, against the baseline: psql's `\copy
#     sync_event_log FROM file` of the very same rows as the fleet holds
#     them (every fleet column; the file written once by `COPY (SELECT
#     ...) TO STDOUT` from the pushed database) into another empty
#     database that already has the fleet schema, its indexes and the
#     months' partitions (made by pushing a store of one event in each
#     month of the big one, then TRUNCATE). Both timed whole (GNU time's
#     %e and %M, client side: the server's work is in the wall time), the
#     two alternating, BENCH_PUSH_REPEAT times: the median time and the
#     largest peak reported. Target (issue 16): push >= 0.5x psql's
#     events/s.
#  2. a fleet: BENCH_FLEET_DEVICES stores of BENCH_FLEET_EVENTS events
#     each (devNNN/sync.db in one folder, each its own device; backfill
#     and catch-up sessions with peers among the devices, the requests
#     each serves, now and then a failed session or a buffer overflow),
#     pushed by one `synclua push` run; then (after VACUUM ANALYZE, the
#     state autovacuum leaves a while after a push) `synclua report --db
#     URL -f json` over the whole fleet, against the same report over the
#     folder of SQLite stores (no target: informative), and whether the
#     two wrote the same JSON (both kept in BENCH_DIR/fleet). The report
#     exits 0 or 1 (1: findings); anything else is a failure.
# The stores are made by the sqlite3 shell in Spacedrive's row format and
# kept in BENCH_DIR/fleet between runs (delete them to rebuild).
#
# Usage: bench/fleet.sh HOST   (env: BENCH_DIR, BENCH_PUSH_EVENTS
#                               [1000000], BENCH_PUSH_REPEAT [3],
#                               BENCH_FLEET_DEVICES [100],
#                               BENCH_FLEET_EVENTS [14000] per device)
host=$1
here=${0%/*}
dir=${BENCH_DIR:-bench/out}/fleet
push_events=${BENCH_PUSH_EVENTS:-1000000}
repeat=${BENCH_PUSH_REPEAT:-3}
devices=${BENCH_FLEET_DEVICES:-100}
fleet_events=${BENCH_FLEET_EVENTS:-14000}
library=5b1c2a3d-4e5f-4a60-8b71-c2d3e4f5a6b7
mkdir -p "$dir" || exit 2
for tool in sqlite3 psql createdb dropdb /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "fleet: skipped (no $tool)"; exit 0; }
done

# The cluster: a missing server is a failure (spec/pg_cluster says why).
pg=$(mktemp -d "${TMPDIR:-/tmp}/synclua-fleet-pg.XXXXXX") || exit 2
stop() { "$here/../spec/pg_cluster" stop "$pg"; }
trap stop EXIT
trap 'exit 130' INT TERM
env=$("$here/../spec/pg_cluster" start "$pg") || exit 1
eval "$env"
url() { echo "postgresql:///$1?host=$PGHOST&user=postgres"; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# wall seconds and peak KiB of a command (its output in $dir/out.txt)
measure() {
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" >"$dir/out.txt" 2>"$dir/err.txt"
  status=$?
  if [ "$status" -ne 0 ]; then
    printf "%s\n" "fleet: '$*' failed (exit $status):" >&2
    cat "$dir/err.txt" >&2
    exit 1
  fi
  tail -n 1 "$dir/time.txt"
}

# A store of device $2 (of $3 devices, 0-based) with $4 events, one every
# $5 microseconds (plus a few) from 2025-11-30T00:00:00Z, in epochs of
# 1400 events, each with a peer of its own among the devices:
#  - a backfill session from that peer (600 events: it connects, two start
#    rows, the second naming it, 300 requests and their batches;
#    completed, or one in 13 failed on a timeout);
#  - seven catch-up sessions, 100 events each: Ready -> CatchingUp, the
#    session (10 requests and batches), back to Ready (or, one in 29, a
#    buffer overflow, an error), 37 requests served to the device whose
#    backfill chose this one in the epoch (its session's id), the peer
#    disconnecting and connecting again;
#  - 47 more requests served, and the peer disconnects.
# So a device of 14,000 events has 10 backfills and 70 catch-ups, most of
# its rows batches and requests. A backfill's batches take about the time
# between them (5,000-10,000 records each); device 3's hold fewer and fewer
# records (a slow peer).
make_store() {
  db=$1 d=$2 n=$3 count=$4 step=$5
  nn=$(( n < 2 ? 2 : n ))
  rm -f "$db" "$db-wal" "$db-shm"
  "$host" -e "assert(require('synclua').open('$db', { mode = 'w' })):close()" || exit 1
  sqlite3 "$db" "
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $count - 1),
    e AS (
      SELECT i, i / 1400 AS ep, i % 1400 AS p,
             (i % 1400 BETWEEN 606 AND 1305) AS cu,
             (i % 1400 - 606) % 100 AS u, (i % 1400 - 606) / 100 AS cyc,
             1764460800000000 + i * $step + $d * 37 + i % 11 AS us,
             printf('%08x-f1ee-4000-8000-%012x', $d + 1, $d + 1) AS me,
             ($d + 1 + (i / 1400) % ($nn - 1)) % $nn AS q,
             ($d - 1 - (i / 1400) % ($nn - 1) + 2 * $nn) % $nn AS r
      FROM n),
    k AS (
      SELECT e.*,
             printf('%08x-f1ee-4000-8000-%012x', q + 1, q + 1) AS peer,
             printf('%08x-f1ee-4000-8000-%012x', r + 1, r + 1) AS asker,
             printf('%08x-0001-4000-8000-%012x', ep, $d + 1) AS bf,
             printf('%08x-0002-4000-8000-%012x', ep * 8 + cyc, $d + 1) AS cuid,
             printf('%08x-0001-4000-8000-%012x', ep, r + 1) AS theirs,
             (ep * 7 + $d) % 13 = 0 AS failed,
             ((ep * 8 + cyc) * 11 + $d) % 29 = 0 AS overflow,
             CASE WHEN p < 606 AND $d = 3 THEN 10000 - (p - 4) * 15
                  WHEN p < 606 THEN 5000 + (i * 7919) % 5000
                  ELSE 1 + (i * 7919) % 500 END AS recs,
             CASE
               WHEN p = 0 OR (cu AND u = 99) THEN 'peer_connected'
               WHEN p = 1399 OR (cu AND u = 98) THEN 'peer_disconnected'
               WHEN p IN (1, 605) OR (cu AND u = 0) THEN 'state_transition'
               WHEN cu AND u = 23 AND ((ep * 8 + cyc) * 11 + $d) % 29 = 0 THEN 'sync_error'
               WHEN cu AND u = 23 THEN 'state_transition'
               WHEN p IN (2, 3) THEN 'backfill_session_started'
               WHEN p = 604 AND (ep * 7 + $d) % 13 = 0 THEN 'backfill_session_failed'
               WHEN p = 604 THEN 'backfill_session_completed'
               WHEN cu AND u = 1 THEN 'catch_up_session_started'
               WHEN cu AND u = 22 THEN 'catch_up_session_completed'
               WHEN p < 606 OR (cu AND u < 22) THEN
                 CASE WHEN i % 2 = 0 THEN 'backfill_request_sent' ELSE 'batch_ingestion' END
               WHEN i % 2 = 0 THEN 'backfill_request_received'
               ELSE 'backfill_response_sent' END AS t
      FROM e)
    INSERT INTO sync_event_log (timestamp, device_id, event_type, category,
      severity, summary, details, correlation_id, peer_device_id,
      model_types, record_count, duration_ms)
    SELECT strftime('%Y-%m-%dT%H:%M:%S', us / 1000000, 'unixepoch') || '.'
             || printf('%06d', us % 1000000) || printf('%03d', (i * 37) % 1000)
             || '+00:00',
           me, t,
           CASE WHEN t IN ('peer_connected', 'peer_disconnected', 'backfill_request_sent',
                           'backfill_request_received', 'backfill_response_sent') THEN 'network'
                WHEN t = 'batch_ingestion' THEN 'data_flow'
                WHEN t = 'sync_error' THEN 'error'
                ELSE 'lifecycle' END,
           CASE WHEN t IN ('sync_error', 'backfill_session_failed') THEN 'error'
                WHEN t IN ('backfill_request_sent', 'batch_ingestion',
                           'backfill_request_received', 'backfill_response_sent') THEN 'debug'
                ELSE 'info' END,
           CASE t
             WHEN 'peer_connected' THEN 'Peer ' || peer || ' connected'
             WHEN 'peer_disconnected' THEN 'Peer ' || peer || ' disconnected: connection lost'
             WHEN 'state_transition' THEN
               CASE WHEN p = 1 THEN 'Ready → Backfilling { peer: ' || peer || ', progress: 0 }'
                    WHEN p = 605 THEN 'Backfilling { peer: ' || peer || ', progress: 100 } → Ready'
                    WHEN u = 0 THEN 'Ready → CatchingUp { buffered_count: ' || (i % 700) || ' }'
                    ELSE 'CatchingUp { buffered_count: 0 } → Ready' END
             WHEN 'sync_error' THEN 'Buffer overflow: ' || (1000 + i % 5000) || ' updates dropped during backfill'
             WHEN 'backfill_session_started' THEN
               CASE WHEN p = 2 THEN 'Backfill session started with ' || ($nn - 1) || ' available peers'
                    ELSE 'Selected peer ' || peer || ' from ' || ($nn - 1) || ' candidates' END
             WHEN 'backfill_session_failed' THEN 'Backfill session failed: timed out after 60s waiting for a backfill response from ' || peer
             WHEN 'backfill_session_completed' THEN 'Backfill session completed successfully'
             WHEN 'catch_up_session_started' THEN 'Catch-up session started with peer ' || peer
             WHEN 'catch_up_session_completed' THEN 'Catch-up session completed: ' || (10 * 250) || ' records'
             WHEN 'backfill_request_sent' THEN 'Backfill request sent to ' || peer || ' (device)'
             WHEN 'batch_ingestion' THEN 'Ingested batch of ' || recs || ' records (' || recs || ' entry)'
             WHEN 'backfill_request_received' THEN 'Backfill request received from ' || asker
             ELSE 'Backfill response sent to ' || asker || ': ' || recs || ' records' END,
           CASE t
             WHEN 'state_transition' THEN
               CASE WHEN p = 1 THEN '{\"reason\":\"peer selected\"}'
                    WHEN p = 605 THEN '{\"reason\":\"backfill complete\"}'
                    WHEN u = 0 THEN '{\"reason\":\"incremental_catchup\"}'
                    ELSE '{\"reason\":\"buffered updates processed\"}' END
             WHEN 'peer_disconnected' THEN '{\"reason\":\"connection lost\"}'
             WHEN 'sync_error' THEN '{\"dropped_count\":' || (1000 + i % 5000) || ',\"max_buffer_size\":100000,\"phase\":\"backfill_to_catchup_transition\"}'
             WHEN 'backfill_session_started' THEN
               CASE WHEN p = 2 THEN '{\"peer_count\":' || ($nn - 1) || '}'
                    ELSE '{\"candidates\":[{\"device_id\":\"' || peer || '\",\"is_online\":true,\"latency_ms\":' || (20 + i % 80) || '.5,\"selected\":true}]}' END
             WHEN 'backfill_session_failed' THEN '{\"reason\":\"timed out after 60s waiting for a backfill response from ' || peer || '\"}'
             WHEN 'batch_ingestion' THEN '{\"models\":{\"entry\":' || recs || '}}' END,
           CASE WHEN p < 606 AND t NOT IN ('peer_connected', 'state_transition') THEN bf
                WHEN cu AND u BETWEEN 1 AND 22 THEN cuid
                WHEN t IN ('backfill_request_received', 'backfill_response_sent') THEN theirs END,
           CASE WHEN t IN ('backfill_request_received', 'backfill_response_sent') THEN asker
                WHEN t IN ('state_transition', 'sync_error') OR p = 2 THEN NULL
                ELSE peer END,
           CASE t WHEN 'backfill_request_sent' THEN 'device' WHEN 'batch_ingestion' THEN 'entry' END,
           CASE t WHEN 'batch_ingestion' THEN recs
                  WHEN 'backfill_response_sent' THEN recs
                  WHEN 'backfill_session_completed' THEN 300 * 7500 + i % 1000
                  WHEN 'catch_up_session_completed' THEN 10 * 250 END,
           CASE t WHEN 'batch_ingestion' THEN
                    CASE WHEN p < 606 THEN 2 * $step / 1000 * (70 + (i * 131) % 25) / 100
                         ELSE 300 + (i * 131) % 1500 END
                  WHEN 'backfill_response_sent' THEN 5 + i % 50
                  WHEN 'backfill_session_completed' THEN 600 * $step / 1000
                  WHEN 'backfill_session_failed' THEN 600 * $step / 1000
                  WHEN 'catch_up_session_completed' THEN 21 * $step / 1000 END
    FROM k;" || exit 1
}

# The stores, kept between runs: the big device (its step makes the
# events span about three days, across a month's end) and the fleet's
# (two days each, the devices a few microseconds apart).
big="$dir/push-$push_events.db"
if [ ! -f "$big" ]; then
  echo "fleet: making $big ($push_events events)"
  make_store "$big" 0 2 "$push_events" $(( 259200000000 / push_events + 12 ))
fi
fleet="$dir/fleet-$devices-$fleet_events"
if [ ! -f "$fleet/.done" ]; then
  echo "fleet: making $fleet ($devices x $fleet_events events)"
  rm -rf "$fleet"
  d=0
  while [ "$d" -lt "$devices" ]; do
    mkdir -p "$fleet/$(printf 'dev%03d' "$d")" || exit 2
    make_store "$fleet/$(printf 'dev%03d' "$d")/sync.db" "$d" "$devices" \
      "$fleet_events" $(( 172800000000 / fleet_events + 12 ))
    d=$((d + 1))
  done
  touch "$fleet/.done"
fi

# One event of each month the big store spans, for the baseline's schema
# and partitions.
months="$dir/months-$push_events.db"
if [ ! -f "$months" ]; then
  "$host" -e "assert(require('synclua').open('$months', { mode = 'w' })):close()" || exit 1
  sqlite3 "$months" "ATTACH '$big' AS big;
    INSERT INTO sync_event_log SELECT * FROM big.sync_event_log WHERE id IN
      (SELECT min(id) FROM big.sync_event_log GROUP BY substr(timestamp, 1, 7));" || exit 1
fi

cols="library_id, log_device_id, device_label, id, \"timestamp\", timestamp_text, instant_ns, device_id, event_type, category, severity, summary, details, correlation_id, peer_device_id, model_types, record_count, duration_ms, bad, nul_escaped"
rows="$dir/rows-$push_events.copy"
mib=$(( $(wc -c < "$big") / 1048576 ))
echo "fleet: push of $push_events events, one device (store $mib MiB), $repeat runs;" \
     "cluster in $pg (fsync off)"
push_list="" psql_list=""
run=1
while [ "$run" -le "$repeat" ]; do
  # synclua push into an empty database
  createdb "push$run" || exit 1
  sql postgres CHECKPOINT
  set -- $(measure "$host" push --to "$(url "push$run")" --db "$big" --library "$library")
  [ $# = 2 ] || exit 1
  ps=$1 pkb=$2
  got=$(sql "push$run" "SELECT count(*) FROM sync_event_log")
  [ "$got" = "$push_events" ] || { echo "fleet: push left $got rows, expected $push_events" >&2; exit 1; }
  # the same rows as the fleet holds them, written out once
  if [ "$run" = 1 ]; then
    sql "push$run" "\\copy (SELECT $cols FROM sync_event_log) TO '$rows'" || exit 1
    parts=$(sql "push$run" "SELECT count(*) FROM pg_inherits WHERE inhparent = 'sync_event_log'::regclass")
    echo "fleet: $parts partitions (one for rows without a time); the COPY file is $(( $(wc -c < "$rows") / 1048576 )) MiB"
  fi
  # psql \copy of them into an empty fleet schema
  createdb "base$run" || exit 1
  "$host" push --to "$(url "base$run")" --db "$months" --library "$library" >/dev/null || exit 1
  sql "base$run" "TRUNCATE sync_event_log, synclua_devices, synclua_pushes" || exit 1
  sql postgres CHECKPOINT
  set -- $(measure psql -X -q -v ON_ERROR_STOP=1 -d "base$run" \
    -c "\\copy sync_event_log ($cols) FROM '$rows'")
  [ $# = 2 ] || exit 1
  bs=$1 bkb=$2
  got=$(sql "base$run" "SELECT count(*) FROM sync_event_log")
  [ "$got" = "$push_events" ] || { printf "%s\n" "fleet: psql \\copy left $got rows, expected $push_events" >&2; exit 1; }
  printf "%s\n" "fleet  run $run: synclua push $ps s, $((pkb / 1024)) MiB peak; psql \\copy $bs s, $((bkb / 1024)) MiB peak"
  push_list="$push_list $ps $pkb" psql_list="$psql_list $bs $bkb"
  dropdb "push$run" && dropdb "base$run" || exit 1
  run=$((run + 1))
done
rm -f "$rows"
# the median of the wall times, and the largest peak
median() {
  m=$(echo "$1" | awk '{ for (i = 2; i <= NF; i += 2) if ($i > m) m = $i } END { print m + 0 }')
  s=$(echo "$1" | awk '{ for (i = 1; i <= NF; i += 2) print $i }' | sort -n |
      awk '{ s[NR] = $1 } END { print s[int((NR + 1) / 2)] }')
  echo "$s $m"
}
set -- $(median "$push_list")
ps=$1 pkb=$2
set -- $(median "$psql_list")
bs=$1 bkb=$2
awk -v n="$push_events" -v s="$ps" -v kb="$pkb" -v bs="$bs" -v bkb="$bkb" -v k="$repeat" 'BEGIN {
  r = (s > 0) ? n / s : 0; br = (bs > 0) ? n / bs : 0; x = (s > 0) ? bs / s : 0
  printf "fleet  push %d events: median of %d: synclua push %.0f ev/s (%.2f s), psql \\copy %.0f ev/s (%.2f s): %.2fx\n", n, k, r, s, br, bs, x
  printf "#result|fleet push %d, events/s|%.0f ev/s (%.2f s)|psql \\copy %.0f ev/s|%.2fx|>= 0.5x psql|%s\n", n, r, s, br, x, (x >= 0.5) ? "met" : "MISSED"
  printf "#result|fleet push %d, peak RSS|%.1f MiB|psql \\copy %.1f MiB|%.2fx|-|-\n", n, kb / 1024, bkb / 1024, (bkb > 0) ? kb / bkb : 0
}'

# The fleet: one push of every device, then the report on both backends.
total=$((devices * fleet_events))
echo
echo "fleet: $devices devices x $fleet_events events ($total) in $fleet"
createdb fleet || exit 1
sql postgres CHECKPOINT
set -- $(measure "$host" push --to "$(url fleet)" --db "$fleet" --library "$library")
[ $# = 2 ] || exit 1
fs=$1 fkb=$2
got=$(sql fleet "SELECT count(*) FROM sync_event_log")
[ "$got" = "$total" ] || { echo "fleet: push left $got rows, expected $total" >&2; exit 1; }
size=$(sql fleet "SELECT pg_size_pretty(pg_database_size('fleet'))")
echo "fleet  synclua push of $devices devices: $fs s, $((fkb / 1024)) MiB peak (database $size)"
awk -v n="$total" -v d="$devices" -v s="$fs" -v kb="$fkb" 'BEGIN {
  printf "#result|fleet push %d x %d, events/s|%.0f ev/s (%.2f s)|-|-|-|-\n", d, n / d, (s > 0) ? n / s : 0, s
  printf "#result|fleet push %d x %d, peak RSS|%.1f MiB|-|-|-|-\n", d, n / d, kb / 1024
}'

# report exits 1 when it has findings: both are a report
report() {
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$host" report --db "$1" -f json \
    -o "$2" >/dev/null 2>"$dir/err.txt"
  status=$?
  if [ "$status" -gt 1 ]; then
    echo "fleet: report --db $1 failed (exit $status):" >&2
    cat "$dir/err.txt" >&2
    exit 1
  fi
  echo "$(tail -n 1 "$dir/time.txt") $status"
}
verdict() { sed -n 's/.*"verdict":"\([^"]*\)".*/\1/p' "$1"; }
sql fleet "VACUUM ANALYZE" || exit 1
set -- $(report "$(url fleet)" "$dir/report-pg.json")
[ $# = 3 ] || exit 1
rs=$1 rkb=$2 rst=$3
set -- $(report "$fleet" "$dir/report-sqlite.json")
[ $# = 3 ] || exit 1
ss=$1 skb=$2 sst=$3
echo "fleet  report --db postgresql://...: $rs s, $((rkb / 1024)) MiB peak, exit $rst: $(verdict "$dir/report-pg.json")"
echo "fleet  report --db FOLDER (SQLite):  $ss s, $((skb / 1024)) MiB peak, exit $sst: $(verdict "$dir/report-sqlite.json")"
if cmp -s "$dir/report-pg.json" "$dir/report-sqlite.json"; then
  same="the same JSON"
else
  same="JSON differs"
fi
echo "fleet  the two reports: $same"
awk -v d="$devices" -v e="$fleet_events" -v s="$rs" -v kb="$rkb" -v ss="$ss" -v skb="$skb" -v st="$rst" -v same="$same" 'BEGIN {
  printf "#result|fleet report %d x %d, time|%.2f s (exit %d, %s)|SQLite folder %.2f s|%.2fx|-|-\n", d, e, s, st, same, ss, (s > 0) ? ss / s : 0
  printf "#result|fleet report %d x %d, peak RSS|%.1f MiB|SQLite folder %.1f MiB|%.2fx|-|-\n", d, e, kb / 1024, skb / 1024, (kb > 0) ? skb / kb : 0
}'
rm -f "$dir/time.txt" "$dir/err.txt" "$dir/out.txt"
