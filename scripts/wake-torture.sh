#!/usr/bin/env bash
# Every wake path of the hub under MonkeyPatch, ROUNDS rounds each (default 200,000: ~2.6 million wakes), counting
# lost and late wakes (0 allowed; tests/Patcher.Child/Scenarios.Wakes.cs says what each means). ./test runs 10,000.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-200000}
dotnet build tests/Patcher.Child -c Release -v q -nologo >/dev/null
EVERGREEN_WAKE_ROUNDS=$rounds EVERGREEN_CHILD_BOUND_S=${BOUND_S:-3600} \
  dotnet tests/Patcher.Child/bin/Release/net10.0/Evergreen.Patcher.Child.dll wakes-torture
