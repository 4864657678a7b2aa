# Sourced by the bench scripts: starts a fresh release server on a random
# loopback port with a scratch data directory, removed (and the server
# stopped) on exit. Sets `server` (pid), `data`, `port`, and `cli` (the
# `pyralog` command pointed at it); `rss_kib` prints the server's RSS.
# Needs `bin` (the directory of the release binaries).
data=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
cleanup() { kill -TERM "${server:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data" "$data.out"; }
trap cleanup EXIT

"$bin/pyralog-server" --data-dir "$data" --listen "127.0.0.1:$port" > "$data.out" 2>&1 &
server=$!
for _ in $(seq 1 100); do grep -q "listening on" "$data.out" 2>/dev/null && break; sleep 0.1; done
cli=("$bin/pyralog" --server "127.0.0.1:$port" --ca-file "$data/tls/ca.pem")
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
