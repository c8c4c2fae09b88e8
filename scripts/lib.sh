# Helpers shared by the scripts in this folder (sourced, not run).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  echo "==> apt-get install $*"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

redis_url() { echo "${BROKER_URL:-redis://127.0.0.1:6379/0}"; }

redis_is_up() {
  "$PY" - "$(redis_url)" <<'PY' 2>/dev/null
import sys, redis
sys.exit(0 if redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping() else 1)
PY
}

# Start Redis on loopback when the broker URL's Redis does not answer. Like the Redis on the
# machines we test on, it keeps nothing on disk: the sweeper is what makes that safe.
ensure_redis() {
  if redis_is_up; then return 0; fi
  command -v redis-server >/dev/null || apt_install redis-server
  local port
  port=$("$PY" -c "from urllib.parse import urlparse; import sys; print(urlparse(sys.argv[1]).port or 6379)" "$(redis_url)")
  mkdir -p "$ROOT/var/run" "$ROOT/var/log"
  echo "==> starting redis-server on 127.0.0.1:$port"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$ROOT/var" --pidfile "$ROOT/var/run/redis.pid" --logfile "$ROOT/var/log/redis.log"
  for _ in $(seq 50); do redis_is_up && return 0; sleep 0.1; done
  echo "redis-server did not start; see var/log/redis.log" >&2
  return 1
}
