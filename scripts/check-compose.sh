#!/usr/bin/env bash
# Static checks of Parley's container deployment files; no Docker engine and no network needed
# (except to install Debian's docker-compose the first time, when no compose tool exists).
#
#   scripts/check-compose.sh
#
# 1. docker-compose.yml and docker-compose.cluster.yml: `docker compose config -q` (v2 plugin) and/or `docker-compose config -q`
#    (v1), whichever exist; with neither, installs Debian's docker-compose when run as root.
#    Every chat server service (built from apps/server/Dockerfile or running a parley-server
#    image) sets TRUST_PROXY to a hop count: they sit behind nginx.
# 2. apps/server/Dockerfile, apps/web/Dockerfile: every COPY source exists and is not excluded
#    by .dockerignore; the pinned pnpm matches the root package.json "packageManager"; the
#    --filter'ed workspace packages exist; the compose file's Dockerfiles exist.
# 3. apps/web/nginx: every PARLEY_* variable in the templates is exported by the entrypoint hook;
#    the config (rendered as the image does when envsubst is installed, else as written) sends a
#    Content-Security-Policy with frame-ancestors 'none' and X-Frame-Options DENY, every location
#    with add_header of its own includes security-headers.conf, access logs use a format that
#    logs no query string, and nothing rate-limits (the servers do, per client address);
#    and, when nginx and envsubst are installed, the rendered config passes `nginx -t`.
#
# Prints one line per check and exits non-zero on the first failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# The stack on one Redis, and the one on a Redis Cluster.
COMPOSE_FILES=(docker-compose.yml docker-compose.cluster.yml)
DOCKERFILES=(apps/server/Dockerfile apps/web/Dockerfile)
NGINX_DIR=apps/web/nginx

fail() {
  echo "check-compose: error: $*" >&2
  exit 1
}
note() { echo "check-compose: $*"; }

# --- 1. compose ---------------------------------------------------------------------------------
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

# Validates one compose file, checks TRUST_PROXY on its chat servers and that its Dockerfiles exist.
check_compose_file() {
  local COMPOSE_FILE=$1
  [ -f "$COMPOSE_FILE" ] || fail "$COMPOSE_FILE not found in $ROOT"
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

  # TRUST_PROXY on every chat server service, read from the resolved config (anchors merged).
  if have_v2; then
    resolved=$(docker compose -f "$COMPOSE_FILE" config 2>/dev/null) || fail "docker compose config failed"
  else
    resolved=$(docker-compose -f "$COMPOSE_FILE" config 2>/dev/null) || fail "docker-compose config failed"
  fi
  # One line per service: "<name> <server?> <TRUST_PROXY or ->". Services are the keys one level
  # under the top-level "services:"; environment is a mapping (KEY: value) or a list (- KEY=value).
  trust=$(printf '%s\n' "$resolved" | awk '
    function unquote(v) { gsub(/^[ \t]+|[ \t]+$/, "", v); if (v ~ /^".*"$/ || v ~ /^\047.*\047$/) v = substr(v, 2, length(v) - 2); return v }
    function flush() { if (svc != "") print svc, server, (tp == "" ? "-" : tp); svc = "" }
    /^[^ \t#]/ { flush(); in_services = ($0 ~ /^services:[ \t]*$/); indent = 0; next }
    !in_services || /^[ \t]*(#|$)/ { next }
    {
      match($0, /^ */); n = RLENGTH
      if (indent == 0) indent = n
      if (n == indent) { flush(); svc = $1; sub(/:$/, "", svc); server = 0; tp = ""; next }
      if ($0 ~ /^[ \t]+dockerfile:[ \t]*["\047]?apps\/server\/Dockerfile["\047]?[ \t]*$/) server = 1
      if ($0 ~ /^[ \t]+image:[ \t]*["\047]?([^ \t"\047]*\/)?parley-server([:@][^ \t"\047]*)?["\047]?[ \t]*$/) server = 1
      if ($0 ~ /^[ \t]+TRUST_PROXY:/) { v = $0; sub(/^[ \t]+TRUST_PROXY:/, "", v); tp = unquote(v) }
      if ($0 ~ /^[ \t]+-[ \t]+["\047]?TRUST_PROXY=/) { v = $0; sub(/^[ \t]+-[ \t]+/, "", v); v = unquote(v); sub(/^TRUST_PROXY=/, "", v); tp = v }
    }
    END { flush() }')
  servers=()
  while read -r svc is_server tp; do
    [ "$is_server" = 1 ] || continue
    servers+=("$svc")
    [ -n "$tp" ] && [ "$tp" != - ] || fail "$COMPOSE_FILE: service $svc does not set TRUST_PROXY (it sits behind nginx: set it to the number of proxies, \"1\")"
    [[ $tp =~ ^[1-9][0-9]*$ ]] \
      || fail "$COMPOSE_FILE: service $svc sets TRUST_PROXY to '$tp'; it must be a hop count such as \"1\" (\"true\" would believe any X-Forwarded-For a client sends)"
  done <<<"$trust"
  [ "${#servers[@]}" -gt 0 ] || fail "$COMPOSE_FILE: found no chat server service (built from apps/server/Dockerfile)"
  echo "compose: $COMPOSE_FILE is valid (checked with ${checked#, }); TRUST_PROXY is a hop count on ${servers[*]}"

  # Dockerfiles named by the compose file (build contexts are the repo root).
  while read -r df; do
    [ -f "$df" ] || fail "$COMPOSE_FILE builds with $df, which does not exist"
  done < <(sed -n 's/^[[:space:]]*dockerfile:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$COMPOSE_FILE" | tr -d "\"'" | sort -u)
}

for file in "${COMPOSE_FILES[@]}"; do check_compose_file "$file"; done

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

have_nginx=0
command -v nginx >/dev/null 2>&1 && have_nginx=1
have_envsubst=0
command -v envsubst >/dev/null 2>&1 && have_envsubst=1

# Render as the image does, into $tmp/<mode>: "proxy" (PARLEY_UPSTREAM set, the app on this
# origin) and "none" (static only, the app pointed at another origin, whose http(s) and ws(s)
# forms must join the CSP's connect-src). Needs envsubst; without it the checks below read the
# files as written.
SAMPLE_SERVER_URL=https://chat-api.example.com
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "$have_envsubst" = 1 ]; then
  for mode in proxy none; do
    t=$tmp/$mode
    mkdir -p "$t/conf.d" "$t/parley" "$t/html" "$t/tmp" "$t/log"
    for f in "$NGINX_DIR"/parley/*.conf; do
      sed -e "s#/etc/nginx/parley/#$t/parley/#g" -e "s#/var/log/nginx/#$t/log/#g" "$f" >"$t/parley/$(basename "$f")"
    done
    # Source the hook (in a known environment), then envsubst only the PARLEY_* names.
    # localhost resolves without DNS, which `nginx -t` needs for upstream server names.
    if [ "$mode" = proxy ]; then
      hook_env=(PARLEY_UPSTREAM="localhost:3000 127.0.0.1:3001")
    else
      hook_env=(PARLEY_UPSTREAM= PARLEY_SERVER_URL=$SAMPLE_SERVER_URL)
    fi
    if ! vars=$(env -u PARLEY_SERVER_URL -u PARLEY_BUILD_SERVER_URL -u PARLEY_CSP_CONNECT_SRC -u PARLEY_HSTS \
      "${hook_env[@]}" NGINX_ENTRYPOINT_QUIET_LOGS=1 sh -c '. "$1" && env' sh "$envsh" 2>&1); then
      fail "$envsh failed (${hook_env[*]}): $vars"
    fi
    names=$(printf '%s\n' "$vars" | sed -n 's/^\(PARLEY_[A-Z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')
    for tpl in "$NGINX_DIR"/templates/*.template; do
      out="$t/conf.d/$(basename "$tpl" .template)"
      (
        while IFS= read -r kv; do case "$kv" in PARLEY_*=*) export "${kv?}" ;; esac; done <<<"$vars"
        envsubst "$names" <"$tpl"
      ) | sed -e "s#/etc/nginx/parley/#$t/parley/#g" -e "s#/usr/share/nginx/html#$t/html#g" \
        -e "s#/var/log/nginx/#$t/log/#g" >"$out"
    done
  done
  check_sets=(proxy none)
else
  check_sets=(as-written)
fi

# A config as statements, one per line (each ends at ";", "{" or "}" outside quotes), comments
# dropped, runs of white space as one space.
statements() {
  # shellcheck disable=SC2016 # an awk program
  awk '
    function emit() { gsub(/[ \t]+/, " ", cur); sub(/^ /, "", cur); if (cur != "") print cur; cur = "" }
    {
      n = length($0)
      for (i = 1; i <= n; i++) {
        c = substr($0, i, 1)
        if (q != "") {
          cur = cur c
          if (c == "\\") { i++; cur = cur substr($0, i, 1) } else if (c == q) q = ""
          continue
        }
        if (c == "#") break
        if (c == "\"" || c == "\047") q = c
        cur = cur c
        if (c == ";" || c == "{" || c == "}") emit()
      }
      cur = cur " "
    }
    END { emit() }' "$@"
}

for set in "${check_sets[@]}"; do
  if [ "$set" = as-written ]; then
    # ${PARLEY_X} as a bare word, so its braces are not taken for blocks.
    mkdir -p "$tmp/as-written"
    files=()
    for f in "$NGINX_DIR"/templates/*.template "$NGINX_DIR"/parley/*.conf; do
      sed 's/\${\(PARLEY_[A-Z0-9_]*\)}/\1/g' "$f" >"$tmp/as-written/$(basename "$f")"
      files+=("$tmp/as-written/$(basename "$f")")
    done
    what="$NGINX_DIR (as written; envsubst not installed)"
  else
    files=("$tmp/$set"/conf.d/*.conf "$tmp/$set"/parley/*.conf)
    what="$NGINX_DIR rendered ($set)"
  fi
  stmts=$(statements "${files[@]}")

  # Security headers: the server's CSP (no framing) and the older anti-framing header.
  csp=$(printf '%s\n' "$stmts" | grep -E "^add_header Content-Security-Policy \"[^\"]*\" always;$" || true)
  [ -n "$csp" ] || fail "$what: no 'add_header Content-Security-Policy \"...\" always;'"
  grep -q "frame-ancestors 'none'" <<<"$csp" || fail "$what: the Content-Security-Policy lacks frame-ancestors 'none': $csp"
  grep -q "script-src 'self'" <<<"$csp" || fail "$what: the Content-Security-Policy lacks script-src 'self': $csp"
  grep -qE '^add_header X-Frame-Options "?DENY"? always;$' <<<"$stmts" \
    || fail "$what: no 'add_header X-Frame-Options \"DENY\" always;'"
  # connect-src, with the map variable security-headers.conf uses resolved to its value.
  connect=$(sed -n 's/.*connect-src \([^;"]*\).*/\1/p' <<<"$csp")
  [ -n "$connect" ] || fail "$what: the Content-Security-Policy has no connect-src: $csp"
  if [[ $connect == *'$parley_connect_src'* ]]; then
    value=$(printf '%s\n' "$stmts" | awk '
      /^map [^ ]+ \$parley_connect_src \{$/ { inmap = 1; next }
      inmap && /^\}$/ { exit }
      inmap && /^default / { v = $0; sub(/^default "?/, "", v); sub(/"?;$/, "", v); print v; exit }')
    [ -n "$value" ] || fail "$what: the CSP's connect-src uses \$parley_connect_src, which no map defines"
    connect=${connect//'$parley_connect_src'/$value}
  fi
  # (As written, the map's value is the bare name PARLEY_CONNECT_SRC: nothing to check.)
  [[ " $connect " == *" 'self' "* ]] || [ "$set" = as-written ] || fail "$what: the CSP's connect-src lacks 'self': $connect"
  if [ "$set" = none ]; then
    for source in "$SAMPLE_SERVER_URL" "wss://${SAMPLE_SERVER_URL#https://}"; do
      [[ " $connect " == *" $source "* ]] \
        || fail "$what: with PARLEY_SERVER_URL=$SAMPLE_SERVER_URL the CSP's connect-src lacks $source: $connect"
    done
  fi

  # nginx drops inherited add_header directives in a block that has its own: every location that
  # adds a header must include security-headers.conf again.
  bad=$(printf '%s\n' "$stmts" | awk '
    /^location .*\{$/ { depth++; loc[depth] = $0; adds[depth] = 0; incl[depth] = 0; next }
    /\{$/ { if (depth) { depth++; loc[depth] = "" } next }
    /^\}$/ { if (depth) { if (loc[depth] != "" && adds[depth] && !incl[depth]) print loc[depth]; depth-- } next }
    depth && /^add_header / { adds[depth] = 1 }
    depth && /^include [^ ]*security-headers\.conf;$/ { incl[depth] = 1 }')
  [ -z "$bad" ] || fail "$what: these locations add headers without including security-headers.conf, so they lose every security header:"$'\n'"$bad"

  # Access logs: every access_log names a format (nginx's default "combined" logs $request, the
  # query string included) whose log_format logs no query string.
  logs=$(printf '%s\n' "$stmts" | grep -E '^access_log ' | grep -vE '^access_log off;$' || true)
  [ -n "$logs" ] || fail "$what: no access_log of its own (the stock one logs \$request, query strings included)"
  while read -r _ _ format _; do
    format=${format%;}
    [ -n "$format" ] || fail "$what: an access_log without a format logs nginx's \"combined\", i.e. \$request with its query string"
    def=$(printf '%s\n' "$stmts" | grep -E "^log_format $format " || true)
    [ -n "$def" ] || fail "$what: access_log uses log_format $format, which is not defined here"
    if grep -qE '\$\{?(request|request_uri|args|query_string|is_args|arg_[A-Za-z0-9_]+)([^A-Za-z0-9_]|$)' <<<"$def"; then
      fail "$what: log_format $format logs a query string (\$request, \$request_uri, \$args, \$query_string or \$arg_*): $def"
    fi
  done <<<"$logs"

  # Rate limits are the servers' (per client address, through X-Forwarded-For).
  if limits=$(printf '%s\n' "$stmts" | grep -E '^(limit_req|limit_conn)'); then
    fail "$what: nginx must not rate-limit (the chat servers do, per client address; both would count everyone twice): $limits"
  fi
done
echo "nginx: security headers (CSP with frame-ancestors 'none', X-Frame-Options DENY) in every location; access logs without query strings; no nginx rate limits"

if [ "$have_nginx" = 1 ] && [ "$have_envsubst" = 1 ]; then
  for mode in proxy none; do
    t=$tmp/$mode
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
      fail "nginx -t rejects the rendered $NGINX_DIR config ($mode):"$'\n'"$out"
    fi
  done
  echo "nginx: $NGINX_DIR templates render and pass nginx -t ($(nginx -v 2>&1 | sed 's/^nginx version: //'))"
else
  echo "nginx: skipped nginx -t (nginx or envsubst not installed); template variables checked"
fi
