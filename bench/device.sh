#!/usr/bin/env bash
# The GPU runs, ready to go (issue 17, item 4): on a device machine (an NVIDIA GPU, no Node.js; run at
# the repository root with the folder bench/device-pack.sh built carried along), this script unpacks
# node, the built project and its production modules from that folder into a work directory, brings up
# Vulkan (webgpu) and, when the pack holds Xvfb and Mesa, GLX under Xvfb (gl, on the NVIDIA driver:
# __GLX_VENDOR_LIBRARY_NAME=nvidia), and runs against cpu (the float64 reference):
#   1. the revaluation microbenchmark (full chain × --scenarios; each float32 matrix checked against cpu's)
#   2. the aggregation microbenchmark (the large book on cpu and webgpu, also with the top 100 losses; the
#      small one on every backend; checked)
#   3. the eod workload (100,000 accounts, 11,051 scenarios) on cpu, auto and every backend, each in its own
#      process, without the DuckDB report (the pack has no @duckdb/node-api), each compared with cpu's
#      margins row by row
#   4. how auto's start-up measurement grows with its size, cpu against each backend (calibration)
#   5. the distance workload (issue 16: every account's distance to liquidation) on cpu, auto and every backend,
#      each stopped at 45 s
# Each writes its JSON record (bench/results' format) to --out; the log (nvidia-smi's table in it) goes there too.
#
# Usage: bench/device.sh [--pack DIR] [--out DIR] [--work DIR] [--backends LIST] [--scenarios N]
#                        [--groups N] [--gl-groups N] [--accounts N] [--timeout S] [--steps LIST]
#                        [--distance-backends LIST] [--distance-parts LIST] [--dry-run]
#   --pack DIR      the folder of bench/device-pack.sh (default .devpack)
#   --out DIR       where the records go (default $OUT when set, as on the device machine, else
#                   bench/results/device)
#   --backends      the backends beside cpu (default webgpu,gl; those that do not start are recorded
#                   as unavailable, with the reason)
#   --timeout S     each eod child's limit (default 100 s); each step is cut at 3 × S (a device call has
#                   10 minutes: give its timeout_s room for all three steps)
#   --steps LIST    which of revaluation,aggregation,eod,calibration,distance to run (default all)
#   --distance-backends LIST
#                   the distance workload's choices (default cpu,auto and --backends)
#   --distance-parts LIST
#                   then the distance workload on cpu once more per part count (--search-parts; e.g. 6,12:
#                   the default is the engine's own, searchParts)
#   --dry-run       cpu only, small sizes (256 scenarios, 200 + 20 groups, 300 accounts), node from PATH
#                   when the pack has none: what test/bench/device.test.ts runs on the development machine
# Exit status: 0 when every step ran (a backend that could not start is a result, not a failure).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
pack=.devpack out=${OUT:-} work=/tmp/margin-engine-device backends=webgpu,gl
scenarios=10000 groups=20000 glgroups=200 accounts= timeout=100 dry=0
steps=revaluation,aggregation,eod,calibration,distance distbackends= distparts=
while [ $# -gt 0 ]; do
  case "$1" in
    --pack) pack="$2"; shift ;;
    --out) out="$2"; shift ;;
    --work) work="$2"; shift ;;
    --backends) backends="$2"; shift ;;
    --scenarios) scenarios="$2"; shift ;;
    --groups) groups="$2"; shift ;;
    --gl-groups) glgroups="$2"; shift ;;
    --accounts) accounts="$2"; shift ;;
    --timeout) timeout="$2"; shift ;;
    --steps) steps="$2"; shift ;;
    --distance-backends) distbackends="$2"; shift ;;
    --distance-parts) distparts="$2"; shift ;;
    --dry-run) dry=1 ;;
    *) echo "device.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
for st in ${steps//,/ }; do
  case "$st" in
    revaluation | aggregation | eod | calibration | distance) ;;
    *) echo "device.sh: unknown step $st (revaluation, aggregation, eod, calibration, distance)" >&2; exit 2 ;;
  esac
done
if [ "$dry" = 1 ]; then
  backends= scenarios=256 groups=200 glgroups=20 accounts=${accounts:-300} timeout=200
fi
cd "$repo"
list="cpu${backends:+,$backends}"
case "$pack" in /*) ;; *) pack="$repo/$pack" ;; esac
out=${out:-$repo/bench/results/device}
mkdir -p "$out" "$work"
log="$out/device.log"
: >"$log"
say() { echo "device.sh: $*" | tee -a "$log" >&2; }
[ -f "$pack/app.tar.xz" ] || { say "no $pack/app.tar.xz: run bench/device-pack.sh here first"; exit 2; }

# ---- node and the app
if [ -f "$pack/node.xz" ]; then
  xz -dc "$pack/node.xz" >"$work/node" && chmod +x "$work/node"
  node="$work/node"
else
  node=$(command -v node) || { say "no node in the pack and none on PATH"; exit 2; }
fi
app="$work/app"
rm -rf "$app"
mkdir -p "$app"
tar -xJf "$pack/app.tar.xz" -C "$app" || { say "cannot unpack $pack/app.tar.xz"; exit 2; }
# the benchmarks read data/ and write bench/.cache under their working directory
ln -sfn "$repo/data" "$app/data"
export BENCH_COMMIT
BENCH_COMMIT=$(cat "$pack/COMMIT" 2>/dev/null || echo unknown)
say "node $("$node" --version), commit $BENCH_COMMIT, $(nproc) cores, backends $list"

# ---- the GPU's loaders (Vulkan, GL/EGL/GLX dispatch) and the X client libraries headless-gl links
if [ "$dry" = 0 ]; then
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi >>"$log" 2>&1 # in the log: a call brings back at most 8 files
    export BENCH_GPU
    BENCH_GPU=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
    say "GPU: $BENCH_GPU"
  fi
  for f in "$pack"/debs/*.deb; do
    [ -e "$f" ] || continue
    # only what the machine lacks (the device machine's own libraries stay as they are)
    # (its soname: the link libX.so.N -> libX.so.N.M.K it ships; a package of data files is unpacked)
    lib=$(dpkg-deb -c "$f" | grep -oE '[^/ ]+\.so\.[0-9]+ ->' | head -1 | sed 's/ ->$//')
    if [ -z "$lib" ] || ! ldconfig -p | awk '{print $1}' | grep -qxF "$lib"; then dpkg -x "$f" /; fi
  done
  ldconfig
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
  egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"
  # Xvfb for gl (headless-gl opens a GLX pbuffer): the machine's own, or the pack's in a private root
  xvfb=$(command -v Xvfb || true) xroot= xkb=()
  if [ -z "$xvfb" ] && [ -d "$pack/glx" ]; then
    xroot="$work/glxroot"
    mkdir -p "$xroot"
    for f in "$pack"/glx/*.deb; do dpkg -x "$f" "$xroot"; done
    xvfb="$xroot/usr/bin/Xvfb"
    xkb=(-xkbdir "$xroot/usr/share/X11/xkb")
    # Xvfb runs xkbcomp from /usr/bin
    [ -x /usr/bin/xkbcomp ] || ln -s "$xroot/usr/bin/xkbcomp" /usr/bin/xkbcomp
  fi
  if [ -n "$xvfb" ]; then
    xlib="$xroot/usr/lib/x86_64-linux-gnu:$xroot/lib/x86_64-linux-gnu"
    LD_LIBRARY_PATH="$xlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" LIBGL_DRIVERS_PATH="$xroot/usr/lib/x86_64-linux-gnu/dri" \
      "$xvfb" :77 -screen 0 1280x1024x24 +extension GLX -nolisten tcp "${xkb[@]}" >"$out/xvfb.log" 2>&1 &
    xpid=$!
    trap 'kill $xpid 2>/dev/null' EXIT
    sleep 2
    export DISPLAY=:77 __GLX_VENDOR_LIBRARY_NAME=nvidia
    say "Xvfb on :77 (pid $xpid)"
  else
    say "no Xvfb (the pack has no glx/: bench/device-pack.sh --glx): gl will be recorded as unavailable"
  fi
fi

# ---- the runs: each a bench record in $out
cd "$app"
status=0
step() {
  local name=$1
  shift
  local try rc t0
  case ",$steps," in *,"$name",*) ;; *) return ;; esac
  for try in 1 2; do
    say "$name: $*"
    t0=$SECONDS
    timeout "$((3 * timeout))" "$node" --no-concurrent-recompilation dist/bench/run.js "$@" --out "$out" >>"$log" 2>&1
    rc=$?
    if [ $rc = 0 ]; then
      say "$name: done in $((SECONDS - t0)) s"
      return
    fi
    say "$name: failed (exit $rc) after $((SECONDS - t0)) s: see $log"
    # once again after an abort (134: SIGABRT): Node 20.20 aborted once, at random, in Piscina's worker
    # start (an assertion in CreateRequiredModuleFacade, require of an ES module; 1 run in ~60 here)
    [ $rc = 134 ] || break
  done
  status=1
}
# what the GPU's WebGPU adapter is (Dawn over Vulkan): its name, backend and limits, in webgpu-adapter.json
probe() {
  say "webgpu probe"
  timeout 60 "$node" --input-type=module -e '
    import { create, globals } from "webgpu";
    import { writeFileSync } from "node:fs";
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const a = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!a) { console.log("no adapter"); process.exit(0); }
    const info = a.info ?? (a.requestAdapterInfo ? await a.requestAdapterInfo() : {});
    const limits = {};
    for (const k in a.limits) limits[k] = a.limits[k];
    const rec = { info: { vendor: info.vendor, architecture: info.architecture, device: info.device,
      description: info.description }, features: [...a.features], limits };
    writeFileSync(process.argv[1], JSON.stringify(rec, null, 2));
    console.log(JSON.stringify(rec.info));
    process.exit(0);
  ' "$out/webgpu-adapter.json" >>"$log" 2>&1 || say "webgpu probe: failed (exit $?): see $log"
}
case ",$list," in *,webgpu,*) [ "$dry" = 1 ] || probe ;; esac
step revaluation --workload revaluation --backends "$list" --scenarios "$scenarios"
step aggregation --workload aggregation --backends "$list" --scenarios "$scenarios" --groups "$groups" \
  --gl-groups "$glgroups"
# eod with auto too (what it chooses per phase on this machine, and its start-up measurements), on a GPU run
eodlist=$list
[ "$dry" = 1 ] || eodlist="cpu,auto${backends:+,$backends}"
step eod --workload eod --backends "$eodlist" --no-report --timeout "$timeout" ${accounts:+--accounts "$accounts"}
# auto's start-up measurement at growing sizes (what a representative one must measure)
if [ "$dry" = 1 ]; then
  step calibration --workload calibration --backends cpu --limit 2 --repeat 1
else
  step calibration --workload calibration --backends "$list"
fi
# issue 16's distance to liquidation, every account of the book (the searches' scan is revaluation and
# aggregation on the backend), cpu, auto, then each device, each stopped at 45 s (the record says how far it got)
if [ "$dry" = 1 ]; then
  step distance --workload distance --backends cpu --limit "${accounts:-300}" --timeout 60
  for parts in ${distparts//,/ }; do
    step distance --workload distance --backends cpu --limit "${accounts:-300}" --search-parts "$parts" --timeout 60
  done
else
  step distance --workload distance --backends "${distbackends:-cpu,auto${backends:+,$backends}}" --timeout 45
  for parts in ${distparts//,/ }; do
    step distance --workload distance --backends cpu --search-parts "$parts" --timeout 45
  done
fi
ls "$out" >>"$log"
exit $status
