#!/usr/bin/env bash
# Static checks of Parley's container deployment files; no Docker engine and no network needed
# (except to install Debian's docker-compose the first time, when no compose tool exists).
#
#   scripts/check-compose.sh
#
# 1. docker-compose.yml: `docker compose config -q` (v2 plugin) and/or `docker-compose config -q`
#    (v1), whichever exist; with neither, installs Debian's docker-compose when run as root.
# 2. apps/server/Dockerfile, apps/web/Dockerfile: every COPY source exists and is not excluded
#    by .dockerignore; the pinned pnpm matches the root package.json "packageManager"; the
#    --filter'ed workspace packages exist; the compose file's Dockerfiles exist.
# 3. apps/web/nginx: every PARLEY_* variable in the templates is exported by the entrypoint hook;
#    and, when nginx and envsubst are installed, the rendered config passes `nginx -t`.
#
# Prints one line per check and exits non-zero on the first failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

COMPOSE_FILE=docker-compose.yml
DOCKERFILES=(apps/server/Dockerfile apps/web/Dockerfile)
NGINX_DIR=apps/web/nginx

fail() {
  echo "check-compose: error: $*" >&2
  exit 1
}
note() { echo "check-compose: $*"; }

# --- 1. compose ---------------------------------------------------------------------------------
[ -f "$COMPOSE_FILE" ] || fail "$COMPOSE_FILE not found in $ROOT"

have_v2() { command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; }
have_v1() { command -v docker-compose >/dev/null 2>&1; }

if ! have_v2 && ! have_v1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    note "no compose tool found; installing Debian's docker-compose"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq docker-compose >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq docker-compose >/dev/null 2>&1; } \
      || fail "could not install docker-compose with apt-get"
  else
    fail "neither 'docker compose' nor 'docker-compose' is available (install Debian's docker-compose, as root: apt-get install docker-compose)"
  fi
fi

validated_with=()
if have_v2; then
  if ! out=$(docker compose -f "$COMPOSE_FILE" config -q 2>&1); then
    fail "$COMPOSE_FILE is invalid for 'docker compose':"$'\n'"$out"
  fi
  validated_with+=("docker compose")
fi
if have_v1; then
  if ! out=$(docker-compose -f "$COMPOSE_FILE" config -q 2>&1); then
    fail "$COMPOSE_FILE is invalid for 'docker-compose':"$'\n'"$out"
  fi
  validated_with+=("docker-compose")
fi
checked=$(printf ', %s' "${validated_with[@]}")
echo "compose: $COMPOSE_FILE is valid (checked with ${checked#, })"

# Dockerfiles named by the compose file (build contexts are the repo root).
while read -r df; do
  [ -f "$df" ] || fail "$COMPOSE_FILE builds with $df, which does not exist"
done < <(sed -n 's/^[[:space:]]*dockerfile:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$COMPOSE_FILE" | tr -d "\"'" | sort -u)

# --- 2. Dockerfiles -----------------------------------------------------------------------------
for f in package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json .dockerignore \
  apps/server/package.json apps/web/package.json packages/protocol/package.json; do
  [ -f "$f" ] || fail "$f is missing"
done

# The package names the Dockerfiles --filter on.
for pair in "apps/server:@parley/server" "apps/web:@parley/web" "packages/protocol:@parley/protocol"; do
  dir=${pair%%:*} name=${pair#*:}
  grep -Eq "\"name\"[[:space:]]*:[[:space:]]*\"$name\"" "$dir/package.json" \
    || fail "$dir/package.json is not named $name (the Dockerfiles filter on that name)"
done

# pnpm version pinned in the Dockerfiles == root packageManager.
pm_version=$(sed -n 's/.*"packageManager"[[:space:]]*:[[:space:]]*"pnpm@\([^"+]*\).*/\1/p' package.json)
[ -n "$pm_version" ] || fail "root package.json has no \"packageManager\": \"pnpm@...\""

# Does a path fall under a .dockerignore pattern? (An approximation of Docker's matching:
# enough to notice a COPY source, or a directory above it, being ignored.)
ignored_by() {
  local path=$1 line pat prefix rest
  prefix=""
  rest=$path
  while :; do
    prefix=${prefix:+$prefix/}${rest%%/*}
    while IFS= read -r line || [ -n "$line" ]; do
      line=${line%$'\r'}
      case "$line" in '' | '#'* | '!'*) continue ;; esac
      pat=${line#/}
      pat=${pat%/}
      # shellcheck disable=SC2053 # glob match on purpose
      if [[ $prefix == $pat ]] || { [[ $pat == '**/'* ]] && { [[ $prefix == ${pat#'**/'} ]] || [[ $prefix == */${pat#'**/'} ]]; }; }; then
        echo "$line"
        return 0
      fi
    done < .dockerignore
    [ "$rest" = "${rest#*/}" ] && return 1
    rest=${rest#*/}
  done
}

for df in "${DOCKERFILES[@]}"; do
  [ -f "$df" ] || fail "$df is missing"
  grep -Eq '^[[:space:]]*ARG[[:space:]]+PNPM_VERSION=' "$df" || fail "$df: no ARG PNPM_VERSION"
  df_pnpm=$(sed -n 's/^[[:space:]]*ARG[[:space:]]*PNPM_VERSION=\([^[:space:]]*\).*/\1/p' "$df" | head -n1)
  [ "$df_pnpm" = "$pm_version" ] \
    || fail "$df pins pnpm $df_pnpm but package.json \"packageManager\" says pnpm@$pm_version"
  # COPY sources from the build context (not --from=stage), one instruction per line.
  while read -r -a words; do
    srcs=()
    for w in "${words[@]:1}"; do
      case "$w" in --from=*) srcs=(); continue 2 ;; --*) continue ;; esac
      srcs+=("$w")
    done
    [ "${#srcs[@]}" -ge 2 ] || fail "$df: cannot parse: ${words[*]}"
    unset 'srcs[${#srcs[@]}-1]' # the destination
    for src in "${srcs[@]}"; do
      src=${src%/}
      [ -e "$src" ] || fail "$df copies $src, which does not exist in the repo"
      if pattern=$(ignored_by "$src"); then
        fail "$df copies $src, but .dockerignore excludes it ($pattern)"
      fi
    done
  done < <(grep -E '^[[:space:]]*COPY[[:space:]]' "$df")
done
# Files a Dockerfile RUNs against, beyond its COPY lines.
for f in "$NGINX_DIR/templates/parley.conf.template" "$NGINX_DIR/docker-entrypoint.d/18-parley-env.envsh" \
  "$NGINX_DIR/docker-entrypoint.d/40-parley-config-js.sh" "$NGINX_DIR/parley/proxy.conf" \
  "$NGINX_DIR/parley/backend-proxy.conf" "$NGINX_DIR/parley/backend-none.conf" "$NGINX_DIR/parley/security-headers.conf"; do
  [ -f "$f" ] || fail "$f is missing"
done
echo "dockerfiles: ${DOCKERFILES[*]} reference existing files (pnpm $pm_version)"

# --- 3. nginx config ------------------------------------------------------------------------------
envsh="$NGINX_DIR/docker-entrypoint.d/18-parley-env.envsh"
exported=$(sed -n 's/^[[:space:]]*export[[:space:]]\{1,\}\(.*\)$/\1/p' "$envsh")
# shellcheck disable=SC2016 # a literal ${...} pattern
for v in $(grep -ho '\${PARLEY_[A-Z0-9_]*}' "$NGINX_DIR"/templates/*.template | tr -d '${}' | sort -u); do
  case " $exported " in *" $v "*) ;; *) fail "$NGINX_DIR/templates uses \${$v}, which $envsh does not export" ;; esac
done

if command -v nginx >/dev/null 2>&1 && command -v envsubst >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for mode in proxy none; do
    t=$tmp/$mode
    mkdir -p "$t/conf.d" "$t/parley" "$t/html" "$t/tmp"
    for f in "$NGINX_DIR"/parley/*.conf; do
      sed "s#/etc/nginx/parley/#$t/parley/#g" "$f" >"$t/parley/$(basename "$f")"
    done
    # Render as the image does: source the hook, then envsubst only the PARLEY_* names.
    # localhost resolves without DNS, which `nginx -t` needs for upstream server names.
    if [ "$mode" = proxy ]; then upstream="localhost:3000 127.0.0.1:3001"; else upstream=""; fi
    if ! vars=$(PARLEY_UPSTREAM=$upstream NGINX_ENTRYPOINT_QUIET_LOGS=1 sh -c '. "$1" && env' sh "$envsh" 2>&1); then
      fail "$envsh failed: $vars"
    fi
    names=$(printf '%s\n' "$vars" | sed -n 's/^\(PARLEY_[A-Z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')
    for tpl in "$NGINX_DIR"/templates/*.template; do
      out="$t/conf.d/$(basename "$tpl" .template)"
      (
        while IFS= read -r kv; do case "$kv" in PARLEY_*=*) export "${kv?}" ;; esac; done <<<"$vars"
        envsubst "$names" <"$tpl"
      ) | sed -e "s#/etc/nginx/parley/#$t/parley/#g" -e "s#/usr/share/nginx/html#$t/html#g" >"$out"
    done
    cat >"$t/nginx.conf" <<EOF
pid $t/nginx.pid;
error_log stderr;
events {}
http {
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path $t/tmp/client;
    proxy_temp_path $t/tmp/proxy;
    fastcgi_temp_path $t/tmp/fastcgi;
    uwsgi_temp_path $t/tmp/uwsgi;
    scgi_temp_path $t/tmp/scgi;
    include $t/conf.d/*.conf;
}
EOF
    if ! out=$(nginx -t -q -p "$t" -c "$t/nginx.conf" -e stderr 2>&1); then
      fail "nginx -t rejects the rendered $NGINX_DIR config (PARLEY_UPSTREAM='$upstream'):"$'\n'"$out"
    fi
  done
  echo "nginx: $NGINX_DIR templates render and pass nginx -t ($(nginx -v 2>&1 | sed 's/^nginx version: //'))"
else
  echo "nginx: skipped nginx -t (nginx or envsubst not installed); template variables checked"
fi
