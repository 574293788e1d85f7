# shellcheck shell=bash
# Sourced by .ci/run (do not execute): starts a throwaway Neo4j Community 5.26
# server (scripts/neo4j-dev-server) for the test run, exports
#   NEO4J_URI  NEO4J_USERNAME  NEO4J_PASSWORD  NEO4J_DATABASE=neo4j
# and registers an EXIT trap that stops the server and deletes its data.
#
#   source .ci/neo4j.sh || exit 1
#
# - Data: a fresh directory per run ($SGRAPH_CI_NEO4J_DATA, default
#   <cache>/ci-data-<pid>), so every CI run starts from an empty database.
# - Port: the first free port from ${NEO4J_DEV_PORT:-7687} upwards, so a dev
#   server left running on the same machine does not get in the way.
# - Password: $NEO4J_PASSWORD if already set, otherwise a random one per run.
# - The jars are cached in ${SGRAPH_NEO4J_HOME:-~/.cache/sgraph-neo4j}; the
#   first run on a machine fetches them from Maven Central (needs mvn + JDK 17).
# - If .ci/run sets its own EXIT trap AFTER sourcing this, it must call
#   sgraph_neo4j_ci_stop from it (an earlier EXIT trap is kept and chained).
# - The server log of the run is kept as <cache>/ci-last.log.

_sgraph_ci_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
_sgraph_ci_server="$_sgraph_ci_root/scripts/neo4j-dev-server"
_sgraph_ci_home="${SGRAPH_NEO4J_HOME:-${HOME:-/root}/.cache/sgraph-neo4j}"
SGRAPH_CI_NEO4J_DATA="${SGRAPH_CI_NEO4J_DATA:-$_sgraph_ci_home/ci-data-$$}"

sgraph_neo4j_ci_stop() {
  [[ -n "${SGRAPH_CI_NEO4J_DATA:-}" && -d "$SGRAPH_CI_NEO4J_DATA" ]] || return 0
  "$_sgraph_ci_server" --data "$SGRAPH_CI_NEO4J_DATA" stop || true
  mkdir -p "$_sgraph_ci_home"
  cp -f "$SGRAPH_CI_NEO4J_DATA/neo4j-dev-server.log" "$_sgraph_ci_home/ci-last.log" 2>/dev/null || true
  "$_sgraph_ci_server" --data "$SGRAPH_CI_NEO4J_DATA" wipe >/dev/null 2>&1 || true
}

# Run sgraph_neo4j_ci_stop on exit, then whatever EXIT trap was there before.
# (`set --` parses `trap -p` output; it only touches this function's args.)
# shellcheck disable=SC2120
_sgraph_ci_register_trap() {
  local prev=""
  eval "set -- $(trap -p EXIT)"
  [[ $# -ge 3 ]] && prev="$3"
  # shellcheck disable=SC2064
  trap "sgraph_neo4j_ci_stop${prev:+; $prev}" EXIT
}

_sgraph_ci_free_port() {
  local p="${NEO4J_DEV_PORT:-7687}" last
  last=$((p + 100))
  while (( p <= last )); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    p=$((p + 1))
  done
  return 1
}

# Remove data dirs left by earlier CI runs that were killed before their trap.
_sgraph_ci_sweep() {
  local d pid
  for d in "$_sgraph_ci_home"/ci-data-*; do
    [[ -d "$d" && -f "$d/.sgraph-neo4j-dev-data" ]] || continue
    pid="$(cat "$d/neo4j-dev-server.pid" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then continue; fi
    rm -rf "$d"
  done
}

_sgraph_ci_start() {
  local port
  _sgraph_ci_sweep
  port="$(_sgraph_ci_free_port)" || { echo "neo4j.sh: no free TCP port near ${NEO4J_DEV_PORT:-7687} on 127.0.0.1." >&2; return 1; }
  if [[ -z "${NEO4J_PASSWORD:-}" ]]; then
    NEO4J_PASSWORD="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  fi
  export NEO4J_PASSWORD
  # shellcheck disable=SC2119
  _sgraph_ci_register_trap
  if ! "$_sgraph_ci_server" --data "$SGRAPH_CI_NEO4J_DATA" --port "$port" start; then
    echo "neo4j.sh: the Neo4j test server did not start (see the lines above)." >&2
    return 1
  fi
  eval "$("$_sgraph_ci_server" --data "$SGRAPH_CI_NEO4J_DATA" env)"
  export NEO4J_URI NEO4J_USERNAME NEO4J_PASSWORD
  export NEO4J_DATABASE=neo4j
  echo "neo4j.sh: NEO4J_URI=$NEO4J_URI NEO4J_USERNAME=$NEO4J_USERNAME NEO4J_DATABASE=$NEO4J_DATABASE" >&2
}

_sgraph_ci_start
