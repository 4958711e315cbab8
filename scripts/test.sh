#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with the .NET SDK: installs what the tests need if it is missing,
# builds, runs every test project and ends with one 'N passed, N failed' line.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: a real Mosquitto broker and its command-line clients (an independent subscriber),
# VictoriaMetrics for the InfluxDB write API, socat for pseudo-terminal serial lines, pymodbus (python3-pymodbus, run with
# /usr/bin/python3) as an independent Modbus RTU slave, util-linux's unshare for the fake 1-Wire sysfs (as root), and
# chromium, headless, to open the batch reports, and python3-yaml to read the central compose file independently.
PACKAGES=(mosquitto mosquitto-clients victoria-metrics socat python3-pymodbus python3-yaml util-linux chromium)
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

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build StillControl.sln -c Release -nologo -v q

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test StillControl.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log" || status=$?

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
