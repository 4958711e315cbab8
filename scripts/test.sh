#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with the .NET SDK: installs what the tests need if it is missing,
# builds, runs every test project and ends with one 'N passed, N failed' line.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: a real Mosquitto broker and its command-line clients (an independent subscriber),
# VictoriaMetrics for the InfluxDB write API, socat for pseudo-terminal serial lines, pymodbus (python3-pymodbus, run with
# /usr/bin/python3) as an independent Modbus RTU slave, with the serial modules its server imports (python3-serial,
# python3-serial-asyncio: only recommended by python3-pymodbus, so --no-install-recommends leaves them out), util-linux's
# unshare for the fake 1-Wire sysfs (as root) and unshare + nsenter for the soak's journal tmpfs, chromium, headless, to open the batch reports, python3-yaml to read the
# central compose file independently, openssl to make the TLS tests' certificates, curl for plain HTTP checks and procps
# (ps) for the leftover-process check at the end. fonts-wqy-microhei: a Chinese font for the panel's browser tests and
# screenshots (chromium draws Chinese as empty boxes without one). postgresql: a real PostgreSQL server for the central batch
# archive's tests, which make their own cluster with initdb in a temporary folder and run it as the postgres user on a free
# loopback port (tests/StillControl.Tests/Archive/PostgresServer.cs; setpriv, from util-linux, switches to that user). python3-aiosmtpd:
# the real SMTP server the notification tests mail to (its dependencies python3-attr and python3-public are hard
# dependencies, installed with it).
# The packaging tests (tests/StillControl.Tests/Packaging) build .debs with dpkg-deb (dpkg) and run the arm64 program under
# emulation: qemu-user (qemu-aarch64) with the arm64 C library, C++ runtime and libgcc from the cross packages
# (libc6-arm64-cross, libstdc++6-arm64-cross, libgcc-s1-arm64-cross: /usr/aarch64-linux-gnu); the overlay install test
# installs the amd64 package with dpkg, whose Depends: it satisfies (libssl3, tzdata, passwd's useradd).
PACKAGES=(mosquitto mosquitto-clients victoria-metrics socat python3 python3-pymodbus python3-serial python3-serial-asyncio systemd
  python3-yaml util-linux chromium openssl curl procps fonts-wqy-microhei postgresql python3-aiosmtpd
  dpkg qemu-user libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross libssl3 tzdata passwd)
missing=()
for package in "${PACKAGES[@]}"; do
  # "install ok installed" only: a removed package whose configuration files remain still answers dpkg -s.
  [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ] || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The tests start their own brokers on free loopback ports; a broker the package starts as a service is not needed.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
  systemctl stop mosquitto || true
fi
# Likewise the cluster Debian's postgresql package creates and starts: the archive tests run their own servers.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet postgresql 2>/dev/null; then
  systemctl stop postgresql || true
fi
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters --no-header 2>/dev/null | awk '$4 == "online" { print $1, $2 }' | while read -r version cluster; do
    pg_ctlcluster "$version" "$cluster" stop || true
  done
fi

# Every Python module a test imports, checked before anything runs: a missing one is named here, not as 18 failed tests.
/usr/bin/python3 -c 'import pymodbus, serial, serial_asyncio, yaml, aiosmtpd' || { echo "a Python module the tests import is missing" >&2; exit 1; }

# No MSBuild or compiler server outlives the run: they would count as processes the tests left behind.
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false
dotnet build StillControl.sln -c Release -nologo -v q

log="$(mktemp)"
session="$(mktemp)"
trap 'rm -f "$log" "$session"' EXIT
status=0
# The tests run in a session of their own, so that every process they start (brokers, socat, pymodbus, chromium, child
# services) can be found afterwards by its session id, whatever happened to the fixture that started it.
# One test project at a time (-m:1): the soak and the integration tests each load both cores, and timing-sensitive tests
# (a Modbus reply within its 300 ms timeout) should not share them with a whole other project.
setsid --wait bash -c 'echo $$ > "$0"; exec dotnet test StillControl.sln -c Release --no-build -nologo -m:1 "$@"' "$session" "$@" 2>&1 \
  | tee "$log" || status=$?

# A process a test killed may take a moment to go; zombies (already dead, awaiting their reaper) do not count.
for _ in 1 2 3 4 5 6 7 8 9 10; do
  leftover=$(ps -e -o pid=,sid=,stat=,args= | awk -v sid="$(cat "$session")" '$2 == sid && $3 !~ /^Z/ { $2 = ""; $3 = ""; print }')
  [ -z "$leftover" ] && break
  sleep 0.5
done
if [ -n "$leftover" ]; then
  echo "processes the tests left behind (now killed):" >&2
  echo "$leftover" >&2
  echo "$leftover" | awk '{print $1}' | xargs -r kill -9 2>/dev/null || true
  status=1
fi

# dotnet test prints one summary per test project; add them up into the line CI reads.
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
