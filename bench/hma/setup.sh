#!/usr/bin/env bash
# Set up Meta's Hasher-Matcher-Actioner (HMA) as a benchmark target, with a bank
# BENCH holding 1,000,000 random PDQ signals.
#
# Source: github.com/facebook/ThreatExchange, commit
#   baefb4ed67b6cdc1d4c82dbaef858d50866ac424, exported with
#   git --git-dir=<bare> archive HEAD hasher-matcher-actioner python-threatexchange | tar -x -C SRC
#   (git archive prints "invalid object ... hashing/hashing.pdf": harmless, that file is outside both dirs)
# Usage:  bench/hma/setup.sh SRC        (SRC holds hasher-matcher-actioner/ and python-threatexchange/)
# Needs:  python3 >= 3.11, PostgreSQL on 127.0.0.1:5432, user postgres, trust auth.
#         Drops and recreates database $HMA_DB (default hma).
# Starts (detached, outliving the shell; files under $HMA_HOME, default /tmp/hma):
#   * API: gunicorn 'OpenMediaMatch.app:create_app()' on 127.0.0.1:5199, 2 sync workers,
#     roles hasher+matcher+curator (the Dockerfile runs plain gunicorn = sync worker; it
#     leaves the worker count at gunicorn's default 1). Each worker refreshes its own
#     in-memory PDQ index from Postgres every 30 s (TASK_INDEX_CACHE); ~1 GB RSS each at 1M.
#   * Indexer: gunicorn, 1 worker, 127.0.0.1:5198, no roles, TASK_INDEXER only (like the
#     reference scaled_deployment_cron config): rebuilds the index every 60 s if banks
#     changed (~30 s CPU at 1M). HMA_INDEXER=0 skips it (new adds then never get indexed).
# Stop:   kill $(cat $HMA_HOME/gunicorn.pid) $(cat $HMA_HOME/indexer.pid)
# Env:    HMA_HOME HMA_SIGNALS HMA_DB HMA_PORT HMA_INDEXER_PORT HMA_INDEXER=0 (defaults above)
set -euo pipefail
SRC=$(realpath "${1:?usage: setup.sh EXPORTED_SRC_DIR}")
HERE=$(dirname "$(realpath "$0")")
H=${HMA_HOME:-/tmp/hma}; N=${HMA_SIGNALS:-1000000}; DB=${HMA_DB:-hma}
PORT=${HMA_PORT:-5199}; IPORT=${HMA_INDEXER_PORT:-5198}
export HMA_DATABASE_URI=postgresql+psycopg2://postgres@127.0.0.1:5432/$DB  # read by omm_config.py
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtA)
APP=$SRC/hasher-matcher-actioner/src   # HMA's pyproject installs deps only; the code runs from src/
export OMM_CONFIG=$H/omm_config.py
mkdir -p "$H/logs"; cp "$HERE/omm_config.py" "$OMM_CONFIG"
JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2    # HMA's Dockerfile preloads jemalloc
[ -e $JEMALLOC ] || apt-get install -y libjemalloc2 >/dev/null

# 1. venv with python-threatexchange from source, HMA's deps + gunicorn ([prod] extra)
[ -x "$H/venv/bin/gunicorn" ] || {
  python3 -m venv "$H/venv"
  nice -n 19 "$H/venv/bin/pip" install -q "$SRC/python-threatexchange" \
    "$SRC/hasher-matcher-actioner[prod]" psycopg2-binary >"$H/logs/pip.log" 2>&1; }
V=$H/venv/bin

# 2. stop a previous run, fresh database, HMA's own alembic migrations (scripts/db-migrate.sh)
for p in gunicorn indexer; do
  pid=$(cat "$H/$p.pid" 2>/dev/null) && grep -qs gunicorn /proc/$pid/cmdline && kill "$pid" && sleep 5 || true
done
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
(cd "$APP" && MIGRATION_COMMAND=1 nice -n 19 "$V/flask" --app OpenMediaMatch.app db upgrade \
   --directory OpenMediaMatch/migrations) >"$H/logs/migrate.log" 2>&1

start() { # name port workers [OMM_X=override...]
  local name=$1 port=$2 workers=$3; shift 3
  (cd "$APP" && exec env LD_PRELOAD=$JEMALLOC "$@" setsid nohup "$V/gunicorn" --chdir "$APP" \
     --bind 127.0.0.1:$port --workers $workers --worker-class sync \
     --control-socket "$H/$name.ctl" --pid "$H/$name.pid" \
     "OpenMediaMatch.app:create_app()") >"$H/logs/$name.log" 2>&1 </dev/null &
  for _ in $(seq 60); do curl -s -o /dev/null http://127.0.0.1:$port/status/live && return; sleep 1; done
  echo "$name did not start, see $H/logs/$name.log" >&2; exit 1
}
rand_pdq() { python3 -c 'import secrets; print(secrets.token_hex(32))'; }
add_one() { curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
              -d "{\"pdq\": \"$(rand_pdq)\"}" http://127.0.0.1:$PORT/c/bank/BENCH/signal; }

# 3. API server, bank via the curation API, one add via the API
start gunicorn $PORT 2
curl -sf -X POST -H 'Content-Type: application/json' -d '{"name": "BENCH"}' http://127.0.0.1:$PORT/c/banks >/dev/null
[ "$(add_one)" = 200 ] || { echo "API add failed" >&2; exit 1; }

# 4. bulk fill: the same rows PostgresOMMStore.bank_add_content writes for {"pdq": ...}:
#    bank_content(disable_until_ts=1 (ENABLED), metadata JSON 'null', rest NULL) + content_signal('pdq', 64 hex)
PGAPPNAME=hma_fill "${PSQL[@]}" -d "$DB" -v n="$N" >/dev/null <<'SQL' &
BEGIN;
WITH bc AS (
  INSERT INTO bank_content (bank_id, imported_from_id, disable_until_ts, original_content_uri, note, bank_content_metadata)
  SELECT b.id, NULL, 1, NULL, NULL, 'null'::json FROM bank b, generate_series(1, :n) WHERE b.name = 'BENCH'
  RETURNING id)
INSERT INTO content_signal (content_id, signal_type, signal_val, create_time)
SELECT id, 'pdq', md5(random()::text) || md5(random()::text), clock_timestamp() FROM bc;
COMMIT;
ANALYZE bank_content; ANALYZE content_signal;
SQL
sleep 1; renice -n 19 -p $("${PSQL[@]}" -c "SELECT pid FROM pg_stat_activity WHERE application_name='hma_fill'") >/dev/null || true
wait $!

# 5. first index build (niced, via HMA's CLI), then the periodic indexer process
(cd "$APP" && LD_PRELOAD=$JEMALLOC nice -n 19 "$V/flask" --app OpenMediaMatch.app build_indices) >"$H/logs/build_indices.log" 2>&1
[ "${HMA_INDEXER:-1}" = 0 ] || start indexer $IPORT 1 OMM_ROLE_HASHER=false \
  OMM_ROLE_MATCHER=false OMM_ROLE_CURATOR=false OMM_TASK_INDEX_CACHE=false OMM_TASK_INDEXER=true

# 6. wait until both API workers have loaded the 1M index (/status alone is 200 even
#    before any index exists), then verify an add (the indexer rebuilds ~60 s later) and count
for _ in $(seq 180); do
  [ "$(grep -c 'CachedIndex\[pdq\] Updated checkpoint' "$H/logs/gunicorn.log")" -ge 2 ] && break; sleep 1; done
echo "status: $(curl -s http://127.0.0.1:$PORT/status)  add: $(add_one)"
echo "BENCH signals: $("${PSQL[@]}" -d "$DB" -c "SELECT count(*) FROM content_signal s JOIN bank_content c ON c.id=s.content_id JOIN bank b ON b.id=c.bank_id WHERE b.name='BENCH'")"
echo "API pid $(cat "$H/gunicorn.pid") on 127.0.0.1:$PORT; indexer pid $(cat "$H/indexer.pid" 2>/dev/null || echo none)"
