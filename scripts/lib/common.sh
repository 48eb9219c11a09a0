# shellcheck shell=bash disable=SC2034
# Shared shell helpers for scripts/services, scripts/test and .ci/run.
# Source this file; it defines functions and a few variables, and runs nothing.

# The repository root (this file lives in <repo>/scripts/lib).
SNAPMASK_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"

# Debian packages the servers, the C library targets and the build need.
SNAPMASK_DEBIAN_PACKAGES=(
  postgresql mariadb-server mariadb-client
  libpq-dev default-libmysqlclient-dev libmongoc-dev libbson-dev libzstd-dev libssl-dev
  pkg-config prometheus-pushgateway openssl
)

# Progress goes to stderr only: stdout is reserved for machine-readable output.
snapmask_log() { printf '%s %s\n' "${SNAPMASK_LOG_PREFIX:-[snapmask]}" "$*" >&2; }
snapmask_die() { printf '%s error: %s\n' "${SNAPMASK_LOG_PREFIX:-[snapmask]}" "$*" >&2; exit 1; }

snapmask_is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Prints the packages of the list given (default: all of the above) that are not installed.
snapmask_missing_packages() {
  local pkg status
  (($# > 0)) || set -- "${SNAPMASK_DEBIAN_PACKAGES[@]}"
  for pkg in "$@"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]] || printf '%s\n' "$pkg"
  done
}

# Installs the Debian packages that are missing; does nothing (and needs no network)
# when all are there. Package managers' output goes to stderr.
snapmask_ensure_packages() {
  local missing
  mapfile -t missing < <(snapmask_missing_packages "$@")
  ((${#missing[@]} == 0)) && return 0

  snapmask_log "installing Debian packages: ${missing[*]}"
  local -a sudo=()
  if ! snapmask_is_root; then
    command -v sudo >/dev/null 2>&1 \
      || snapmask_die "missing packages (${missing[*]}); run as root or install them: apt-get install -y ${missing[*]}"
    sudo=(sudo)
  fi

  # Keep the packages' maintainer scripts from starting the distribution's own
  # PostgreSQL/MariaDB instances on the default ports (no init system is relied on here).
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e "$policy" ]] && snapmask_is_root; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
  fi

  local rc=0
  {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update \
      && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  } >&2 </dev/null 9>&- || rc=$?

  ((made_policy)) && rm -f "$policy"
  ((rc == 0)) || snapmask_die "apt-get failed (exit $rc) installing: ${missing[*]}"

  mapfile -t missing < <(snapmask_missing_packages "$@")
  ((${#missing[@]} == 0)) || snapmask_die "still missing after apt-get: ${missing[*]}"
}

# Exports the test servers' ports: the repository's .env (which docker-compose.yml reads too)
# gives the defaults, a variable already set in the environment wins.
snapmask_load_ports() {
  local key value
  while IFS='=' read -r key value; do
    [[ "$key" =~ ^SNAPMASK_[A-Z0-9_]+_PORT$ ]] || continue
    [[ -n "${!key:-}" ]] || printf -v "$key" '%s' "$value"
    export "${key?}"
  done <"$SNAPMASK_REPO_ROOT/.env"
}
