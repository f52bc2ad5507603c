#!/usr/bin/env bash
# The whole test suite: starts the services the tests use, runs every test project, and ends with one line
# "N passed, N failed" summed over all projects (exit 1 if anything failed or no test ran).
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh || { echo "0 passed, 1 failed"; exit 1; }

dotnet tool restore >/dev/null
# The Keycloak stand-in of the browser tests (e2e/oidc): exact versions from its lock file.
npm ci --prefix e2e/oidc --no-audit --no-fund --silent || { echo "0 passed, 1 failed"; exit 1; }
results="TestResults"
rm -rf "$results"
dotnet build CodeTether.sln -c Debug -nologo -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }
dotnet test CodeTether.sln --no-build -nologo --logger "trx" --results-directory "$results" "$@"
status=$?

passed=0; failed=0
for f in "$results"/*.trx; do
  [ -f "$f" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); p=${p:-0}
  fl=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters"); fl=${fl:-0}
  passed=$((passed + p)); failed=$((failed + fl))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi   # a crashed test host counts as a failure
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
