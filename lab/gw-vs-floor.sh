#!/usr/bin/env bash
# lab/gw-vs-floor.sh: where gw's extra CPU over the floor proxy goes, function by function, and whether gw
# makes more system calls per request. Both proxies run pinned to CPU 1 (load on CPU 0) in front of one tiny
# upstream, one after the other:
#   1. strace -c over a 3 s closed-loop run: system calls per request (needs strace; skipped without it);
#   2. --cpu-prof over an 8 s closed-loop run: self time per function in µs per request (process life, so
#      start-up functions such as module compilation show too), and the difference gw − floor, largest first.
# Run after `npm run build && npm --prefix lab run build`:  bash lab/gw-vs-floor.sh [ROWS]    (docs/FINDINGS.md, "What bounds throughput")
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-25}
UP=19411 PROXY=19412 ADMIN=19413
WORK=$(mktemp -d /tmp/gwp-vs-floor-XXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
PIN0='' PIN1=''
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then PIN0='taskset -c 0' PIN1='taskset -c 1'; fi

cat > "$WORK/p.gwp" <<EOF
upstream u { replicas 127.0.0.1:$UP; pool connections 64 }
route r { match path prefix "/"; timeout 5s; proxy u }
EOF
node -e "require('http').createServer((q,s)=>{s.setHeader('content-type','application/json');s.end('{\"ok\":true}')}).listen($UP,'127.0.0.1')" &

proxy_args() {
  case $1 in
    gw) echo "dist/bin/gw.js run $WORK/p.gwp --listen 127.0.0.1:$PROXY --admin 127.0.0.1:$ADMIN --log-destination /dev/null" ;;
    floor) echo "dist/lab/peers/floor.js --listen 127.0.0.1:$PROXY --upstream 127.0.0.1:$UP --connections 64" ;;
  esac
}
load() { $PIN0 node dist/testkit/load/main.js --url "http://127.0.0.1:$PROXY/x" --concurrency "$1" --duration "$2" "${@:3}"; }
completed() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).requests.completed))'; }
wait_port() { for _ in $(seq 50); do node -e "require('net').connect($PROXY,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))" && return 0; sleep 0.1; done; return 1; }

for name in floor gw; do
  # 1. system calls per request
  if command -v strace >/dev/null; then
    $PIN1 node $(proxy_args $name) >/dev/null 2>&1 & pid=$!
    wait_port; load 32 2s --quiet
    strace -f -c -p $pid -o "$WORK/strace-$name.txt" 2>/dev/null & st=$!
    sleep 1
    n=$(load 8 3s --json - --quiet | completed)
    kill -INT $st; wait $st 2>/dev/null || true
    kill $pid; wait $pid 2>/dev/null || true
    echo "$name: system calls per request over $n requests (strace -c):"
    awk -v n="$n" '$NF ~ /^(read|write|writev|epoll_pwait|epoll_wait|futex|recvfrom|sendto)$/ && $4 ~ /^[0-9]+$/ { printf "  %-12s %.2f\n", $NF, $4 / n }' "$WORK/strace-$name.txt"
  fi
  # 2. CPU profile
  mkdir -p "$WORK/prof-$name"
  $PIN1 node --cpu-prof --cpu-prof-dir="$WORK/prof-$name" $(proxy_args $name) >/dev/null 2>&1 & pid=$!
  wait_port; load 32 3s --quiet
  n=$(load 32 8s --json - --quiet | completed)
  kill -INT $pid; wait $pid 2>/dev/null || true
  echo "$n" > "$WORK/prof-$name/completed"
done

node - "$WORK" "$ROWS" <<'EOF'
const fs = require('fs')
const [dir, rows] = [process.argv[2], Number(process.argv[3])]
function perRequest(name) {
  const d = `${dir}/prof-${name}`
  const n = Number(fs.readFileSync(`${d}/completed`, 'utf8'))
  const p = JSON.parse(fs.readFileSync(`${d}/${fs.readdirSync(d).find(f => f.endsWith('.cpuprofile'))}`, 'utf8'))
  const usPerSample = (p.endTime - p.startTime) / p.samples.length
  const nodes = new Map(p.nodes.map(x => [x.id, x]))
  const fns = new Map()
  let busy = 0
  for (const id of p.samples) {
    const f = nodes.get(id).callFrame
    if (f.functionName === '(idle)') continue
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
    fns.set(key, (fns.get(key) ?? 0) + usPerSample / n)
    busy += usPerSample / n
  }
  return { n, busy, fns }
}
const gw = perRequest('gw'), floor = perRequest('floor')
console.log(`\nCPU µs per request, busy samples over the process life: gw ${gw.busy.toFixed(1)} (${gw.n} requests), floor ${floor.busy.toFixed(1)} (${floor.n} requests)`)
const keys = new Set([...gw.fns.keys(), ...floor.fns.keys()])
const diff = [...keys].map(k => [k, gw.fns.get(k) ?? 0, floor.fns.get(k) ?? 0]).sort((a, b) => (b[1] - b[2]) - (a[1] - a[2]))
console.log('  gw − floor      gw   floor  function')
for (const [k, g, f] of diff.slice(0, rows)) console.log(`${(g - f).toFixed(2).padStart(11)} ${g.toFixed(2).padStart(7)} ${f.toFixed(2).padStart(7)}  ${k}`)
EOF
