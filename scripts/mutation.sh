#!/usr/bin/env bash
# Mutation score of the safety core with Stryker.NET (docs/mutation.md). Long (tens of minutes per area on 2 cores): not run in CI.
#
#   scripts/mutation.sh                      # the three areas: validator, process, control
#   scripts/mutation.sh validator control    # some of them
#   scripts/mutation.sh '**/Process/SignalCheck.cs'   # any glob of src/StillControl.Core, one run per argument
#   scripts/mutation.sh '**/Controller/Phases.cs,**/Controller/Outputs.cs'   # several globs in one run (comma-separated)
#
# Environment: MUTATION_CONCURRENCY (test sessions in parallel, default 1), STILLCONTROL_PROPERTY_ITERATIONS (sequences the
# interlock property test tries per run, default here 30; 300 in an ordinary test run).
# Prints, per area: killed, survived, timeout, no coverage and the score; reports go to
# tests/StillControl.Core.Tests/StrykerOutput/<area>/reports/mutation-report.{html,json}.
# Exit status: 1 if an area scores below 85 %, 2 if Stryker itself failed.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tests="$root/tests/StillControl.Core.Tests"
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export STILLCONTROL_PROPERTY_ITERATIONS="${STILLCONTROL_PROPERTY_ITERATIONS:-30}"
concurrency="${MUTATION_CONCURRENCY:-1}"
minimum=85

if [ "$#" -eq 0 ]; then set -- validator process control; fi

glob_of() {
  case "$1" in
    validator) echo '**/Recipes/RecipeValidator.cs' ;;
    process) echo '**/Process/**/*.cs' ;;
    control) echo '**/Control/**/*.cs' ;;
    *) echo "$1" ;;
  esac
}

name_of() {
  case "$1" in
    validator|process|control) echo "$1" ;;
    *) echo "$1" | tr -c 'A-Za-z0-9._-' '_' | sed 's/^_*//; s/_*$//' ;;
  esac
}

cd "$root"
dotnet tool restore >/dev/null

summary=""
status=0
for area in "$@"; do
  glob="$(glob_of "$area")"
  name="$(name_of "$area")"
  out="$tests/StrykerOutput/$name"
  rm -rf "$out"
  mutate=()
  IFS=',' read -ra globs <<< "$glob"
  for g in "${globs[@]}"; do mutate+=(--mutate "$g"); done
  echo "== $name: mutating $glob (concurrency $concurrency, property test $STILLCONTROL_PROPERTY_ITERATIONS sequences)"
  started=$(date +%s)
  if ! (cd "$tests" && dotnet stryker --config-file stryker-config.json "${mutate[@]}" --concurrency "$concurrency" \
        --reporter json --reporter html --reporter cleartext --output "$out"); then
    echo "== $name: Stryker failed" >&2
    exit 2
  fi
  minutes=$(( ($(date +%s) - started + 59) / 60 ))
  report="$out/reports/mutation-report.json"
  line="$(python3 - "$report" "$name" "$minutes" "$minimum" <<'EOF'
import json, sys
report, name, minutes, minimum = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
counts = {"Killed": 0, "Survived": 0, "Timeout": 0, "NoCoverage": 0}
for f in json.load(open(report))["files"].values():
    for m in f["mutants"]:
        if m["status"] in counts:
            counts[m["status"]] += 1
detected = counts["Killed"] + counts["Timeout"]
total = detected + counts["Survived"] + counts["NoCoverage"]
score = 100.0 * detected / total if total else 100.0
flag = "" if score >= minimum else f"  BELOW {minimum:g} %"
print(f"{name}: killed {counts['Killed']}, survived {counts['Survived']}, timeout {counts['Timeout']}, "
      f"no coverage {counts['NoCoverage']}, score {score:.2f} % ({minutes} min){flag}")
EOF
)"
  echo "== $line"
  summary="$summary$line"$'\n'
  case "$line" in *BELOW*) status=1 ;; esac
done

echo
echo "Mutation scores (minimum $minimum %):"
printf '%s' "$summary"
exit "$status"
