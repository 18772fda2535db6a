#!/usr/bin/env bash
# Installs (when missing), configures and starts the real services the tests talk to, on a fresh
# Debian machine or one where they already run: PostgreSQL (role postgres, trusted on loopback),
# MariaDB (root over TCP, empty password), Redis, nginx (cluster tests), Chromium (console tests),
# wrk (benchmarks), and creates the `test` databases. Idempotent; needs root. Called by .ci/run;
# a developer may run it once too (`sudo .ci/services.sh`).
set -euo pipefail

log() { printf '\n== %s\n' "$*"; }

wait_for() { # name, command
  for _ in $(seq 1 90); do
    if eval "$2" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "$1 did not come up" >&2
  return 1
}

# ---- packages -------------------------------------------------------------------------------
missing=()
command -v pg_ctlcluster >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Chinese glyphs for the console's zh-CN pages in Chromium (screenshots, visual checks).
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
# The image's init (deploy/Dockerfile): test/deploy/ starts the product under it.
[ -x /usr/bin/tini ] || missing+=(tini)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

# ---- PostgreSQL -----------------------------------------------------------------------------
pg_version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
if [ -z "$pg_version" ]; then
  pg_version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  log "creating PostgreSQL $pg_version cluster"
  pg_createcluster "$pg_version" main
fi
hba="/etc/postgresql/$pg_version/main/pg_hba.conf"
if ! grep -q '^# mcpgate CI: trust loopback' "$hba"; then
  log "PostgreSQL: trusting loopback connections (CI only)"
  tmp=$(mktemp)
  {
    echo '# mcpgate CI: trust loopback'
    echo 'host all all 127.0.0.1/32 trust'
    echo 'host all all ::1/128 trust'
    cat "$hba"
  } >"$tmp"
  cat "$tmp" >"$hba"
  rm -f "$tmp"
  if pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload
  fi
fi
if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  log "starting PostgreSQL $pg_version"
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start || true
  wait_for PostgreSQL "pg_isready -h 127.0.0.1 -p 5432"
fi
psql -h 127.0.0.1 -U postgres -d postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -c 'CREATE DATABASE test'

# ---- MariaDB --------------------------------------------------------------------------------
if ! mysqladmin -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; then
  if ! mysqladmin --protocol=socket -uroot ping >/dev/null 2>&1; then
    log "starting MariaDB"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    if [ ! -d /var/lib/mysql/mysql ]; then
      mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    fi
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    wait_for MariaDB "mysqladmin --protocol=socket -uroot ping"
  fi
  # Debian lets root in by unix socket only; CI wants root over TCP with an empty password.
  log "MariaDB: root over TCP without a password (CI only)"
  mysql --protocol=socket -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket; \
    CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
  wait_for "MariaDB over TCP" "mysqladmin -h 127.0.0.1 -P 3306 -uroot ping"
fi
mysql -h 127.0.0.1 -P 3306 -uroot -e 'CREATE DATABASE IF NOT EXISTS test'

# ---- Redis ----------------------------------------------------------------------------------
if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis "redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG"
fi

log "services: PostgreSQL $pg_version, $(mysql -h 127.0.0.1 -uroot -N -e 'SELECT VERSION()'), Redis $(redis-cli -h 127.0.0.1 info server | sed -n 's/^redis_version:\(.*\)\r$/\1/p')"
