#!/usr/bin/env bash
# Everything a session lent a GPU machine should run, as one command that fits its device time:
#   1. the tensor tests (conformance on every device entry, the WebGPU kernel tests, training
#      parity) on the real GPU, where initWebGPU picks the 'gpu' kernel set by itself;
#   2. `pnpm bench gpu --json` (matmul, the 156M G.pt step's kernels, two G.pt steps, beside
#      PyTorch CUDA fp32 when the machine has it), which stops starting rows after 220 s.
# Output goes to $OUT (tests.txt, gpu.jsonl, gpu.txt); each part has its own time limit, and a
# failing part does not stop the next. Exit status: non-zero when a part failed.
#
# Here, after `npx pnpm@12.4.2 install --frozen-lockfile && npx pnpm@12.4.2 build`:
#     bash ../shared/tools/device-pack.sh
# then one device run, carry [".devpack"], command:
#     source .devpack/unpack.sh && bash benchmarks/gpu-session.sh
# It also runs here on lavapipe (OUT=/tmp/gpu-session bash benchmarks/gpu-session.sh), where
# the benchmark uses its small sizes.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:?set OUT to the folder for the results}
mkdir -p "$OUT"
status=0
# The parts' markers go to the session's own output (fd 3), never into the result files.
exec 3>&1

part() {
  local name=$1 limit=$2
  shift 2
  local started=$SECONDS
  echo "== $name (limit ${limit}s)" >&3
  timeout "$limit" "$@"
  local code=$?
  echo "== $name: exit $code after $((SECONDS - started)) s" >&3
  [ "$code" -eq 0 ] || status=1
}

echo "node $(node --version); $(nvidia-smi -L 2>/dev/null | head -1 || echo 'no nvidia-smi')" | tee "$OUT/machine.txt"
part tests 240 env GPT_REQUIRE_WEBGPU=1 node_modules/.bin/vitest run --project tensor > "$OUT/tests.txt" 2>&1
tail -n 6 "$OUT/tests.txt"
part bench 270 node --conditions=@gpt/source --import tsx benchmarks/run.ts gpu --json > "$OUT/gpu.jsonl" 2> "$OUT/gpu.txt"
tail -n 3 "$OUT/gpu.txt"
exit $status
