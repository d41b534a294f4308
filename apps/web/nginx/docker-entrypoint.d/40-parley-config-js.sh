#!/bin/sh
# Parley: write the web app's runtime configuration, /config.js, from PARLEY_SERVER_URL.
#
#   PARLEY_SERVER_URL set (even to ""):  window.PARLEY_CONFIG = {"serverUrl":"<JSON-escaped>"};
#                                        ("" = the page's own origin, overriding the build-time
#                                        VITE_PARLEY_SERVER_URL)
#   PARLEY_SERVER_URL unset:             the config.js shipped in the build is left as is
#                                        (serverUrl unset, so the build-time value applies).
#
# Run by the stock /docker-entrypoint.sh before nginx starts. The Dockerfile makes config.js
# (only that file) writable by the nginx user.
set -eu

CONFIG_JS=${PARLEY_CONFIG_JS:-/usr/share/nginx/html/config.js}

if [ -z "${PARLEY_SERVER_URL+set}" ]; then
    if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        echo "40-parley-config-js: PARLEY_SERVER_URL is unset; keeping the built config.js"
    fi
    exit 0
fi

# JSON string escaping in awk (no jq/node in this image): backslash, double quote and every
# control character; other bytes (UTF-8 included) pass through unchanged. ENVIRON avoids any
# shell or awk -v escape processing of the value.
json=$(awk 'BEGIN {
    for (i = 1; i < 32; i++) ctl[sprintf("%c", i)] = sprintf("\\u%04x", i)
    ctl[sprintf("%c", 127)] = "\\u007f"
    ctl["\\"] = "\\\\"; ctl["\""] = "\\\""
    s = ENVIRON["PARLEY_SERVER_URL"]; out = ""
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        out = out ((c in ctl) ? ctl[c] : c)
    }
    printf "\"%s\"", out
}')

if ! {
    echo "// Written at container start from PARLEY_SERVER_URL (see /docker-entrypoint.d/40-parley-config-js.sh)."
    printf 'window.PARLEY_CONFIG = {"serverUrl":%s};\n' "$json"
} >"$CONFIG_JS"; then
    echo "40-parley-config-js: error: cannot write $CONFIG_JS" >&2
    exit 1
fi

if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
    printf '40-parley-config-js: wrote %s (serverUrl: %s)\n' "$CONFIG_JS" "$json"
fi
