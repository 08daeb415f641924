#!/usr/bin/env bash
# Installs the Debian packages tribev2 needs (build + runtime), and with --test also the
# tools the test suite uses. Only missing packages are installed; nothing else is downloaded.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake ninja-build pkg-config
  libopenblas-dev            # GEMM (single-threaded per call; our pool does the threading)
  libyaml-cpp-dev            # config.yaml
  nlohmann-json3-dev         # safetensors headers, build_args.json, outputs
  libzip-dev                 # .npz and PyTorch checkpoints
  libcli11-dev               # command line
  libssl-dev                 # SHA-256 (libcrypto EVP): cache keys, pinned downloads
  zlib1g-dev                 # .gii.gz and GZipBase64Binary GIFTI
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev libswscale-dev  # media decoding, MP4 movies
  libfftw3-dev               # filterbank features (audio)
  libpcre2-dev               # Llama 3 pre-tokenizer regex
  libespeak-ng-dev           # offline text-to-speech with word timings
  libtinyxml2-dev            # GIFTI XML
  libcairo2-dev fonts-dejavu-core  # figures (PNG/SVG/PDF) and their text
  libcurl4-openssl-dev       # fetch-mesh downloads, the Hugging Face Hub client (src/hub)
  python3-dev pybind11-dev   # the Python package tribev2 (src/python; off when absent)
  python3-numpy python3-pandas python3-setuptools python3-wheel python3-pip python3-venv  # its runtime + pip install
)
TEST_PKGS=(
  libgtest-dev libgmock-dev  # unit tests
  clang-14 libclang-rt-14-dev  # libFuzzer targets and sanitizer runtime
  python3-numpy python3-nibabel  # cross-checks of our files with numpy / nibabel
  ffmpeg espeak-ng           # generating test media
  connectome-workbench       # wb_command: how Workbench reads our GIFTI time step (test skips without it)
  python3-yaml               # bench/overlap.sh (../shared/bench/make_full_model.py)
  python3                    # tests/hub/hub_server.py: the local Hub + CDN of the hub tests
  python3-pytest python3-matplotlib  # the Python package's tests (tests/python) and its figures
  chromium python3-websocket python3-pil  # the viewer's browser test (headless Chromium over DevTools)
  slurm-wlm munge            # tests/slurm: a private one-node Slurm cluster for tribev2 batch/run --slurm
)

want=("${BUILD_PKGS[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${TEST_PKGS[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# npm (for NiiVue below): Debian's where none is on PATH (a NodeSource nodejs brings its own).
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#want[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# NiiVue for `tribev2 view`, pinned by viewer/package-lock.json: `npm ci` installs exactly the
# locked versions and checks their integrity hashes. The viewer reads
# viewer/node_modules/@niivue/niivue/dist/niivue.umd.js (or its installed copy).
viewer_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../viewer" && pwd)"
if [[ ! -f "$viewer_dir/node_modules/@niivue/niivue/dist/niivue.umd.js" ]]; then
  echo "install-deps: npm ci in $viewer_dir (NiiVue for tribev2 view)"
  (cd "$viewer_dir" && npm ci --ignore-scripts --no-audit --no-fund)
fi

# Hugging Face's own JavaScript Hub client (@huggingface/hub, MIT), pinned by
# tests/hub/hf-js/package-lock.json: the hub tests let it download from the local test Hub and
# compare its cache with the one `tribev2 download` writes. Tests only.
hfjs_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/hub/hf-js" && pwd)"
if [[ "${1:-}" == "--test" && ! -f "$hfjs_dir/node_modules/@huggingface/hub/package.json" ]]; then
  echo "install-deps: npm ci in $hfjs_dir (@huggingface/hub for the hub tests)"
  (cd "$hfjs_dir" && npm ci --ignore-scripts --no-audit --no-fund)
fi
