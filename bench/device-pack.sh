#!/usr/bin/env bash
# Packs what bench/device.sh needs on a device machine (an NVIDIA GPU, 16 cores, no Node.js) into one
# git-ignored folder that travels with the working tree (at most 64 MiB in all, the tree included):
#
#   .devpack/node.xz       this machine's node binary, xz-compressed (cached per node version)
#   .devpack/app.tar.xz    dist/ (npm run build first) and the production node_modules a device run needs
#                          (bench/packModules.mjs: no @duckdb, fastify or vega; no source maps, TypeScript
#                          sources, browser bundles, other platforms' binaries or build trees)
#   .devpack/debs/         Vulkan and GL loaders (libglvnd) and the X client libraries headless-gl links
#   .devpack/glx/          with --glx: Xvfb and Mesa (its GLX needs them), unpacked to a private root there
#
# Usage: bench/device-pack.sh [--glx] [--out DIR] [--app-only] [--fast]
#   --app-only  only app.tar.xz (no node, no packages): what the dry-run test packs
#   --fast      xz -0 instead of -9 (the dry-run test)
# Ends by adding up what would travel (tracked and untracked-not-ignored files, and the folder) and
# fails when it is over 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."

out=.devpack glx=0 apponly=0 level=-9
while [ $# -gt 0 ]; do
  case "$1" in
    --glx) glx=1 ;;
    --out) out="$2"; shift ;;
    --app-only) apponly=1 ;;
    --fast) level=-0 ;;
    *) echo "device-pack.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -f dist/bench/run.js ] || { echo "device-pack.sh: dist/ is not built (npm run build)" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out"

# the app: dist/ (the tests' build left out) and the production modules, trimmed
mapfile -t modules < <(node bench/packModules.mjs)
tar -c \
  --exclude='*.map' --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' --exclude='*.ts' \
  --exclude='*.min.js' --exclude='*.md' --exclude='node_modules/@types' --exclude='node_modules/undici-types' \
  --exclude='node_modules/apache-arrow/src' \
  --exclude='node_modules/webgpu/dist/win32-*' --exclude='node_modules/webgpu/dist/darwin-*' \
  --exclude='node_modules/gl/angle' --exclude='node_modules/gl/deps' --exclude='node_modules/gl/src/native' \
  --exclude='node_modules/gl/build/Release/obj.target' --exclude='node_modules/gl/build/Release/.deps' \
  --exclude='node_modules/gl/build/Release/obj' --exclude='node_modules/gl/build/*.mk' \
  --exclude='node_modules/gl/build/Makefile' --exclude='node_modules/gl/build/config.gypi' \
  --exclude='dist/test' \
  package.json dist "${modules[@]}" | xz "$level" -T0 >"$out/app.tar.xz"
git rev-parse HEAD >"$out/COMMIT" 2>/dev/null || echo unknown >"$out/COMMIT"

if [ "$apponly" = 0 ]; then
  # node, compressed once per version (xz -9 of ~99 MB takes minutes on 2 cores)
  cache=bench/.cache/devpack
  mkdir -p "$cache"
  node_xz="$cache/node-$(node --version)-$(uname -m)$level.xz"
  if [ ! -f "$node_xz" ]; then
    xz "$level" -T0 -c "$(command -v node)" >"$node_xz.tmp"
    mv -f "$node_xz.tmp" "$node_xz"
  fi
  cp "$node_xz" "$out/node.xz"

  # Debian packages for the device (x86-64): apt lists of their own, so that this machine's stay as they are
  apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64 -qq)
  mkdir -p /tmp/amd64/partial
  [ -n "$(ls /tmp/amd64 2>/dev/null | grep -v partial)" ] || apt-get "${apt_opts[@]}" update
  mkdir -p "$out/debs"
  (cd "$out/debs" && apt-get "${apt_opts[@]}" download \
    libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 \
    libx11-6 libx11-data libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0)
  if [ "$glx" = 1 ]; then
    mkdir -p "$out/glx"
    (cd "$out/glx" && apt-get "${apt_opts[@]}" download \
      xvfb xserver-common libxfont2 libfontenc1 libfreetype6 libpng16-16 libbrotli1 libpixman-1-0 libunwind8 \
      xkb-data x11-xkb-utils libxkbfile1 libxshmfence1 libgl1-mesa-dri libglapi-mesa libglx-mesa0 libllvm15 \
      libz3-4 libedit2 libelf1 libsensors5 libdrm2 libdrm-amdgpu1 libdrm-intel1 libdrm-nouveau2 libdrm-radeon1 \
      libpciaccess0 libx11-xcb1 libxcb-dri2-0 libxcb-dri3-0 libxcb-glx0 libxcb-present0 libxcb-randr0 \
      libxcb-sync1 libxcb-xfixes0 libxcb-shm0 libxxf86vm1 libxfixes3 libxrender1 libxi6 libxtst6)
  fi
fi

# what travels: the tracked files, the untracked files git does not ignore, and this folder
tree=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | grep -zv "^${out#./}/" |
  xargs -0 -r stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
pack=$(du -sb "$out" | cut -f1)
limit=$((64 * 1024 * 1024))
total=$((tree + pack))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "device-pack: $out $(mib "$pack") (node $(mib "$(stat -c %s "$out/node.xz" 2>/dev/null || echo 0)"), app $(mib "$(stat -c %s "$out/app.tar.xz")"), debs $(mib "$(du -sb "$out/debs" 2>/dev/null | cut -f1 || echo 0)"), glx $(mib "$(du -sb "$out/glx" 2>/dev/null | cut -f1 || echo 0)")) + working tree $(mib "$tree") = $(mib "$total") of $(mib "$limit")"
if [ "$total" -gt "$limit" ]; then
  echo "device-pack: over the 64 MiB a device call carries" >&2
  exit 1
fi
