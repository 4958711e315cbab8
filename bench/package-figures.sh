#!/usr/bin/env bash
# Figures for docs/packaging.md, measured on the built packages:
#   - package size (.deb) and installed size, amd64 and arm64;
#   - cold start of `stillcontrol --version` (a fresh process each time; hyperfine when installed);
#   - `simulate --speed max --mqtt off` real-time factor in fresh processes, ReadyToRun (the package) against a JIT-only
#     publish of the same source, runs interleaved so both see the same machine load;
#   - RSS of `run` with the simulated still at rest (no batch), and during a batch (simulate at 50x real time, sampled).
#
#   bash bench/package-figures.sh [--runs N]      (default 5 simulate runs of each kind)
#
# Uses dist/stillcontrol_<version>_{amd64,arm64}.deb, building them first when missing (deploy/package.sh); the JIT
# publish goes to a temporary folder. On a shared machine absolute times move with the load: read the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    *) echo "package-figures.sh: unknown argument '$1' (accepted: --runs N)" >&2; exit 2 ;;
  esac
done
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo
echo "== package sizes"
for arch in amd64 arm64; do
  deb="dist/stillcontrol_${version}_${arch}.deb"
  [ -f "$deb" ] || bash deploy/package.sh "$arch" >/dev/null
  size=$(stat -c %s "$deb")
  installed=$(dpkg-deb -f "$deb" Installed-Size)
  files=$(dpkg-deb -c "$deb" | grep -c '^-')
  awk -v a="$arch" -v s="$size" -v i="$installed" -v f="$files" 'BEGIN { printf "%s: .deb %.1f MB, installed %.1f MB, %d files\n", a, s / 1048576, i / 1024, f }'
done

deb="dist/stillcontrol_${version}_amd64.deb"
dpkg -x "$deb" "$tmp/root"
r2r="$tmp/root/usr/lib/stillcontrol/stillcontrol"
echo
echo "publishing a JIT-only build of the same source for comparison..."
dotnet publish src/StillControl -c Release -r linux-x64 --self-contained -p:PublishReadyToRun=false -p:UseSharedCompilation=false \
  -nologo -v q -o "$tmp/jit" >/dev/null
jit="$tmp/jit/stillcontrol"

echo
echo "== cold start: stillcontrol --version (fresh process each run; file cache warm)"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 3 --runs 30 --style basic -n ReadyToRun "$r2r --version" -n JIT "$jit --version" 2>&1 | grep -E 'Time|±|faster|ReadyToRun|JIT' || true
else
  for name in ReadyToRun JIT; do
    program=$r2r; [ "$name" = JIT ] && program=$jit
    start=$(date +%s%N); for _ in $(seq 30); do "$program" --version >/dev/null; done; end=$(date +%s%N)
    echo "$name: $(( (end - start) / 30000000 )) ms per run (mean of 30)"
  done
fi

echo
echo "== simulate --speed max --mqtt off, fresh process each run, interleaved (x real time; loop wall s; process CPU s)"
simulate() { # program -> "factor cpu"
  local journal="$tmp/sim-$RANDOM/j.db"
  mkdir -p "$(dirname "$journal")"
  local line
  line=$( { /usr/bin/time -f 'cpu %U %S' "$1" simulate --speed max --mqtt off --journal "$journal" --seed 7 | tail -n 1; } 2>&1 )
  rm -rf "$(dirname "$journal")"
  local factor cpu
  factor=$(echo "$line" | grep -o '([0-9]*x real time' | tr -dc '0-9')
  cpu=$(echo "$line" | awk '/^cpu/ {printf "%.2f", $2 + $3}')
  echo "$factor $cpu"
}
r2r_f=(); jit_f=()
for i in $(seq "$runs"); do
  read -r rf rc < <(simulate "$r2r")
  read -r jf jc < <(simulate "$jit")
  r2r_f+=("$rf"); jit_f+=("$jf")
  printf 'run %d: ReadyToRun %6dx (cpu %ss)   JIT %6dx (cpu %ss)   ratio %.2f\n' "$i" "$rf" "$rc" "$jf" "$jc" "$(awk -v a="$rf" -v b="$jf" 'BEGIN { print a / b }')"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }
best() { printf '%s\n' "$@" | sort -n | tail -n 1; }
echo "ReadyToRun: median $(median "${r2r_f[@]}")x, best $(best "${r2r_f[@]}")x;  JIT: median $(median "${jit_f[@]}")x, best $(best "${jit_f[@]}")x"

echo
echo "== memory (ReadyToRun package, amd64)"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$tmp/idle.json" <<EOF
{
  "Hardware": { "Mode": "Simulated" },
  "Simulation": { "Distiller": false },
  "Journal": { "Path": "$tmp/idle.db" },
  "Mqtt": { "Enabled": true, "EmbeddedPort": $port }
}
EOF
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }
"$r2r" run --config "$tmp/idle.json" >"$tmp/idle.log" 2>&1 &
pid=$!; pids+=("$pid")
# At rest: the loop steps the idle still, the broker idles. RSS grows for the first minute (code paged in, tiered JIT,
# caches); it is read once two readings 10 s apart agree within 1 %, at most after 150 s.
previous=0
for _ in $(seq 15); do
  sleep 10
  kill -0 "$pid" 2>/dev/null || { echo "run exited early:"; cat "$tmp/idle.log"; exit 1; }
  current=$(rss "$pid")
  if [ "$previous" -gt 0 ] && [ $(( current * 100 / previous )) -le 101 ]; then break; fi
  previous=$current
done
echo "run, simulated still, no batch, embedded MQTT broker: RSS $(( $(rss "$pid") / 1024 )) MB"
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true

# During a batch: simulate at 50x real time (the loop paced as in service, 2 h batch in ~2.5 min), sampled every 2 s
# for 120 s, then stopped.
"$r2r" simulate --speed 50 --mqtt off --journal "$tmp/batch.db" >"$tmp/batch.log" 2>&1 &
pid=$!; pids+=("$pid")
peak=0; sum=0; n=0
for _ in $(seq 60); do
  sleep 2
  current=$(rss "$pid"); [ -n "$current" ] || break
  [ "$current" -gt "$peak" ] && peak=$current
  sum=$((sum + current)); n=$((n + 1))
done
kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
[ "$n" -gt 0 ] && echo "simulate --speed 50, first 120 s of a batch: RSS mean $(( sum / n / 1024 )) MB, peak $(( peak / 1024 )) MB"
peak_max=$( { /usr/bin/time -f '%M' "$r2r" simulate --speed max --mqtt off --journal "$tmp/max.db" >/dev/null; } 2>&1 | tail -n 1)
echo "simulate --speed max, whole batch: peak RSS $(( peak_max / 1024 )) MB"
echo
echo "machine load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
