#!/usr/bin/env bash
# The HTTP benchmark, in one run on loopback: nginx serves a fixed ChatAdapter reply (at once, and
# after 200 ms); wrk, the plain-libcurl floor client and dspy::LM (ChainOfThought through
# dspy::batch) each make the same POSTs at concurrency 1 and 64, then 10,000 in flight against
# the 200 ms server, and at concurrency 64 over TLS with HTTP/2 (both clients multiplex their
# calls on one connection); then dspy::LM's program with its LM in the process (no HTTP), at 64
# and at 10,000 in flight. Prints one JSON line per client run (calls/s, CPU us per call, peak
# RSS).
#
#   benchmarks/http/run.sh [CALLS_C1] [CALLS_C64] [IN_FLIGHT]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
calls_c1=${1:-2000}
calls_c64=${2:-20000}
in_flight=${3:-10000}

source scripts/lib/deps.sh
DSPY_APT_PACKAGES+=(nginx-light libnginx-mod-http-echo wrk openssl)
dspy_install_deps

cmake --preset release >/dev/null
cmake --build --preset release --target http_floor_client http_dspy_client >/dev/null
floor=build/release/http_floor_client
client=build/release/http_dspy_client

dir=$(mktemp -d)
nginx_pid=
cleanup() {
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

# Ports nothing listens on (a connect to them is refused), other than those given.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 10000))
    [[ " $* " == *" $p "* ]] && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
fast_port=$(free_port)
slow_port=$(free_port "$fast_port")
h2_port=$(free_port "$fast_port" "$slow_port")

# The reply a ChainOfThought<QA> call parses; nginx's single-quoted strings take \\ and \'.
reply='{"id":"chatcmpl-bench","object":"chat.completion","model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"[[ ## reasoning ## ]]\nThe question asks for the capital of France, which is Paris.\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"},"finish_reason":"stop"}],"usage":{"prompt_tokens":160,"completion_tokens":32,"total_tokens":192}}'
escaped=${reply//\\/\\\\}
mkdir -p "$dir"/{body,proxy,fastcgi,uwsgi,scgi}
conf=$(<benchmarks/http/nginx.conf.in)
shopt -u patsub_replacement 2>/dev/null || true  # bash 5.2: a quoted replacement stays literal
conf=${conf//@DIR@/"$dir"}
conf=${conf//@PORT_FAST@/"$fast_port"}
conf=${conf//@PORT_SLOW@/"$slow_port"}
conf=${conf//@PORT_H2@/"$h2_port"}
printf '%s\n' "${conf//@REPLY@/"$escaped"}" >"$dir/nginx.conf"

# A certificate for 127.0.0.1 that both clients trust (BENCH_CA_BUNDLE), for this run only.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
export BENCH_CA_BUNDLE=$dir/cert.pem

ulimit -n "$(ulimit -Hn)"
nginx -p "$dir" -c "$dir/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do
  curl -fs -o /dev/null -X POST "http://127.0.0.1:$fast_port/v1/chat/completions" && break
  sleep 0.1
done

"$client" --print-body >"$dir/request.json"
cat >"$dir/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench"
local f = io.open("$dir/request.json", "r")
wrk.body = f:read("*a")
f:close()
LUA

fast="http://127.0.0.1:$fast_port/v1"
slow="http://127.0.0.1:$slow_port/v1"
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); request body $(wc -c <"$dir/request.json") bytes"
for c in 1 64; do
  wrk_out=$(wrk -t1 -c"$c" -d5s -s "$dir/post.lua" "$fast/chat/completions")
  echo "{\"client\": \"wrk\", \"concurrency\": $c, \"calls_per_s\": $(awk '/Requests\/sec/ {print $2}' <<<"$wrk_out")}"
  calls=$([[ $c == 1 ]] && echo "$calls_c1" || echo "$calls_c64")
  "$floor" "$fast/chat/completions" "$dir/request.json" "$calls" "$c"
  "$client" "$fast" "$calls" "$c"
done
# 10,000 in flight against the 200 ms server: it allows IN_FLIGHT / 0.2 s calls per second.
echo "# 200 ms server, $in_flight in flight: the server allows $((in_flight * 5)) calls/s"
"$floor" "$slow/chat/completions" "$dir/request.json" "$((in_flight * 3))" "$in_flight"
"$client" "$slow" "$((in_flight * 3))" "$in_flight"
echo "# HTTP/2 over TLS, 64 in flight on one connection"
"$floor" "https://127.0.0.1:$h2_port/v1/chat/completions" "$dir/request.json" "$calls_c64" 64
"$client" "https://127.0.0.1:$h2_port/v1" "$calls_c64" 64
# The same program with its LM in the process (the server's completion, no HTTP): what the
# framework's own work costs, the part of each figure above that no transport can remove.
echo "# in process: 64 in flight answered at once, $in_flight in flight answered after 200 ms"
"$client" in-process:0 "$calls_c64" 64
"$client" in-process:200 "$((in_flight * 3))" "$in_flight"
