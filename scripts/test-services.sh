#!/usr/bin/env bash
# Makes sure the servers the test suite talks to are running on this machine:
#   - Redis on 127.0.0.1:6379 (Debian's redis-server),
#   - PostgreSQL on 127.0.0.1:5432 with the pgvector extension, a `memvox` role (password
#     `memvox`) and a `memvox_test` database in which `CREATE EXTENSION vector` has been run.
# Debian 12 has no pgvector package, so it is built once from Debian 13's source package against
# the installed PostgreSQL server headers. Everything it installs is idempotent: a second run on a
# prepared machine takes well under a second. Prints the URLs to export on success.
set -euo pipefail

log() { printf '[test-services] %s\n' "$*" >&2; }
CACHE_DIR=${MEMVOX_CACHE_DIR:-$HOME/.cache/memvox}
PGVECTOR_VERSION=0.8.0
APT_UPDATED=0

apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

as_postgres() { runuser -u postgres -- "$@"; }

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return; fi
  command -v redis-server >/dev/null || apt_install redis-server redis-tools
  log "starting redis-server on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/memvox-tests.log
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return
    sleep 0.1
  done
  log "redis did not answer on 127.0.0.1:6379"; exit 1
}

pg_major() { ls /etc/postgresql 2>/dev/null | sort -n | tail -n 1; }

ensure_postgres_running() {
  if [ -z "$(pg_major)" ]; then apt_install postgresql; fi
  local major; major=$(pg_major)
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
    log "starting PostgreSQL $major cluster"
    pg_ctlcluster --skip-systemctl-redirect "$major" main start
  fi
  for _ in $(seq 1 50); do
    as_postgres psql -qAtc 'select 1' >/dev/null 2>&1 && return
    sleep 0.2
  done
  log "PostgreSQL did not accept connections"; exit 1
}

pgvector_available() {
  [ "$(as_postgres psql -qAtc "select count(*) from pg_available_extensions where name='vector'")" = 1 ]
}

build_pgvector() {
  local major; major=$(pg_major)
  local pg_config=/usr/lib/postgresql/$major/bin/pg_config
  [ -x "$pg_config" ] && [ -d "$($pg_config --includedir-server)" ] || apt_install "postgresql-server-dev-$major"
  command -v make >/dev/null || apt_install make
  local src=$CACHE_DIR/pgvector-$PGVECTOR_VERSION
  if [ ! -f "$src/Makefile" ]; then
    log "fetching pgvector $PGVECTOR_VERSION source from Debian 13 (trixie)"
    local mirror; mirror=$(grep -hm1 '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}')
    mirror=${mirror:-http://deb.debian.org/debian}
    local apt_dir; apt_dir=$(mktemp -d)
    mkdir -p "$apt_dir/lists/partial" "$CACHE_DIR"
    echo "deb-src $mirror trixie main" > "$apt_dir/sources.list"
    local apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=-"
                    -o "Dir::State::Lists=$apt_dir/lists")
    apt-get "${apt_opts[@]}" update -qq >/dev/null
    (cd "$apt_dir" && apt-get "${apt_opts[@]}" source --download-only -qq pgvector >/dev/null)
    tar -xzf "$apt_dir"/pgvector_${PGVECTOR_VERSION}.orig.tar.gz -C "$CACHE_DIR"
    rm -rf "$apt_dir"
  fi
  log "building pgvector $PGVECTOR_VERSION for PostgreSQL $major"
  make -s -C "$src" OPTFLAGS="" PG_CONFIG="$pg_config" >/dev/null
  make -s -C "$src" OPTFLAGS="" PG_CONFIG="$pg_config" install >/dev/null
}

ensure_database() {
  as_postgres psql -qAt -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'memvox') THEN
    CREATE ROLE memvox LOGIN SUPERUSER PASSWORD 'memvox';
  END IF;
END $$;
SQL
  if [ "$(as_postgres psql -qAtc "select count(*) from pg_database where datname='memvox_test'")" != 1 ]; then
    as_postgres createdb -O memvox memvox_test
  fi
  as_postgres psql -qAt -d memvox_test -c 'CREATE EXTENSION IF NOT EXISTS vector' >/dev/null
  # A plain role and a database without pgvector, for the "missing pgvector" start-up test.
  as_postgres psql -qAt -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'memvox_plain') THEN
    CREATE ROLE memvox_plain LOGIN NOSUPERUSER PASSWORD 'memvox';
  END IF;
END $$;
SQL
  if [ "$(as_postgres psql -qAtc "select count(*) from pg_database where datname='memvox_novector'")" != 1 ]; then
    as_postgres createdb -O memvox_plain memvox_novector
  fi
  # Schemas left behind by interrupted earlier test runs (store, pipeline and query tests),
  # one transaction each: all in one runs out of lock slots once a few hundred are left.
  as_postgres psql -qAt -d memvox_test -c "DO \$\$ DECLARE s text; BEGIN
    FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\_%' OR nspname LIKE 'qtest\_%' LOOP
      EXECUTE format('DROP SCHEMA %I CASCADE', s); COMMIT; END LOOP; END \$\$;" >/dev/null
  if ! PGPASSWORD=memvox psql -h 127.0.0.1 -U memvox -d memvox_test -qAtc 'select 1' >/dev/null 2>&1; then
    log "allowing password logins for the memvox test roles on 127.0.0.1"
    local hba; hba=$(as_postgres psql -qAtc 'show hba_file')
    sed -i '1i host all memvox,memvox_plain 127.0.0.1/32 scram-sha-256' "$hba"
    as_postgres psql -qAtc 'select pg_reload_conf()' >/dev/null
  fi
}

ensure_redis
ensure_postgres_running
pgvector_available || build_pgvector
pgvector_available || { log "pgvector is still not available after building it"; exit 1; }
ensure_database
log "ready: redis://127.0.0.1:6379 and postgres://memvox:memvox@127.0.0.1:5432/memvox_test (pgvector)"
