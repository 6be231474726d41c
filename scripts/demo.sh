#!/usr/bin/env bash
# The main job on the embedded default backend.
set -euo pipefail
cd "$(dirname "$0")/.."
build/bin/dosna-readme-example
