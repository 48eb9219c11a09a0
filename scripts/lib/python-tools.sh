#!/usr/bin/env bash
# shellcheck shell=bash
# The Python venv for snapmask's test tooling (manifest validation, metrics checks).
#
#   scripts/lib/python-tools.sh              creates the venv when needed; prints its python
#   source scripts/lib/python-tools.sh       defines snapmask_tools_python (same, as a function)
#
# The venv lives at ${SNAPMASK_SERVICES_DIR:-<repo>/.services}/tools-venv and is made with the
# system Python (SNAPMASK_TOOLS_PYTHON, default /usr/bin/python3, Debian 12's 3.11). It holds
# the packages of SNAPMASK_TOOLS_REQUIREMENTS below. Nothing is downloaded when the venv
# already has exactly those: the list is recorded in the venv and the modules must import.
# Progress goes to stderr; stdout carries only the python path.

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Pinned so that every machine validates with the same schemas and the same client library.
SNAPMASK_TOOLS_REQUIREMENTS=(
  "kubernetes-validate==1.37.0" # Kubernetes JSON schemas, used by scripts/validate-manifests
  "prometheus_client==0.26.0"   # parses the text exposition format of --metrics-file
  "PyYAML==6.0.3"               # reads manifests and job files in checks
)
# What must import for the venv to count as ready.
SNAPMASK_TOOLS_MODULES="import kubernetes_validate, prometheus_client, yaml"

# Prints the venv's python, creating or repairing the venv first when needed.
snapmask_tools_python() {
  local services_dir="${SNAPMASK_SERVICES_DIR:-$SNAPMASK_REPO_ROOT/.services}"
  local venv="$services_dir/tools-venv"
  local python="$venv/bin/python"
  local stamp="$venv/snapmask-requirements.txt"
  local wanted
  wanted="$(printf '%s\n' "${SNAPMASK_TOOLS_REQUIREMENTS[@]}")"

  _snapmask_tools_ready() {
    [[ -x "$python" ]] && [[ "$(cat "$stamp" 2>/dev/null)" == "$wanted" ]] \
      && "$python" -c "$SNAPMASK_TOOLS_MODULES" >/dev/null 2>&1
  }

  if _snapmask_tools_ready; then
    printf '%s\n' "$python"
    return 0
  fi

  mkdir -p "$services_dir" || snapmask_die "cannot create $services_dir"
  # Several test processes may get here at once: one builds, the others wait for it.
  local lock="$services_dir/.tools-venv.lock"
  (
    exec 8>"$lock"
    flock -w 900 8 || snapmask_die "waited 900 s for $lock (another tools venv install?)"
    _snapmask_tools_ready && exit 0

    local system_python="${SNAPMASK_TOOLS_PYTHON:-/usr/bin/python3}"
    if [[ ! -x "$system_python" ]]; then
      snapmask_ensure_packages python3
    fi
    # Debian's python3 makes venvs only with python3-venv (ensurepip) installed.
    if ! "$system_python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
      snapmask_ensure_packages python3-venv
    fi
    "$system_python" -c 'import ensurepip, venv' >/dev/null 2>&1 \
      || snapmask_die "$system_python cannot create venvs (install python3-venv, or set SNAPMASK_TOOLS_PYTHON)"

    if [[ ! -x "$python" ]] || ! "$python" -c 'import sys' >/dev/null 2>&1; then
      snapmask_log "creating the tools venv $venv with $system_python ($("$system_python" --version 2>&1))"
      rm -rf "$venv"
      "$system_python" -m venv "$venv" >&2 </dev/null || snapmask_die "could not create the venv $venv"
    fi
    snapmask_log "installing into the tools venv: ${SNAPMASK_TOOLS_REQUIREMENTS[*]}"
    "$python" -m pip install --quiet --disable-pip-version-check "${SNAPMASK_TOOLS_REQUIREMENTS[@]}" >&2 </dev/null \
      || snapmask_die "pip install failed in $venv: ${SNAPMASK_TOOLS_REQUIREMENTS[*]}"
    "$python" -c "$SNAPMASK_TOOLS_MODULES" >&2 \
      || snapmask_die "the tools venv $venv does not import its modules after installing"
    printf '%s\n' "$wanted" >"$stamp"
    snapmask_log "tools venv ready: $python"
  ) || return 1

  _snapmask_tools_ready || snapmask_die "the tools venv $venv is not usable"
  printf '%s\n' "$python"
}

# Run as a program: print the python path.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  snapmask_tools_python
fi
