#!/bin/sh
# Start keel's proxy: write nginx's configuration to /tmp from the template,
# with the backend's address (KEEL_PROXY_UPSTREAM), the DNS server that
# resolves it (the container's first, from /etc/resolv.conf, re-asked every 10 s
# so a restarted backend is found at its new address) and the public HTTPS
# port for the redirect of plain HTTP (KEEL_PROXY_HTTPS_PORT); take the
# certificate from /etc/keel/tls (tls.crt and tls.key), or make a self-signed
# one for local runs; then exec nginx as PID 1.
set -eu

upstream=${KEEL_PROXY_UPSTREAM:-backend:8000}
https_port=${KEEL_PROXY_HTTPS_PORT:-443}
certs=/etc/keel/tls
run=/tmp/keel-proxy

mkdir -p "$run/tls" "$run/temp"
# The first nameserver only: nginx asks its resolvers in turn, and a later
# one (the host's, which Podman appends) does not know the container names.
resolver=$(awk '$1 == "nameserver" { print ($2 ~ /:/) ? "[" $2 "]" : $2; exit }' /etc/resolv.conf)
if [ -z "$resolver" ]; then
    echo "keel-proxy: /etc/resolv.conf names no nameserver to resolve $upstream with" >&2
    exit 1
fi
case "$https_port" in
    443) port_suffix= ;;
    *[!0-9]*|'') echo "keel-proxy: KEEL_PROXY_HTTPS_PORT must be a port number" >&2; exit 1 ;;
    *) port_suffix=":$https_port" ;;
esac

if [ -e "$certs/tls.crt" ] || [ -e "$certs/tls.key" ]; then
    for file in tls.crt tls.key; do
        if [ ! -r "$certs/$file" ]; then
            echo "keel-proxy: $certs/$file is missing or not readable by uid $(id -u) (both tls.crt and tls.key are needed)" >&2
            exit 1
        fi
    done
    cert=$certs/tls.crt key=$certs/tls.key
else
    cert=$run/tls/tls.crt key=$run/tls/tls.key
    name=${KEEL_PROXY_SERVER_NAME:-localhost}
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -days 30 -subj "/CN=$name" \
        -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
        -keyout "$key" -out "$cert" 2>/dev/null
    echo "keel-proxy: no certificate in $certs: serving a self-signed one for $name (local runs only)" >&2
fi

sed -e "s|@UPSTREAM@|$upstream|g" -e "s|@RESOLVER@|$resolver|g" \
    -e "s|@PORT_SUFFIX@|$port_suffix|g" -e "s|@CERT@|$cert|g" -e "s|@KEY@|$key|g" \
    -e "s|@RUN@|$run|g" \
    /etc/keel/nginx.conf.template > "$run/nginx.conf"
exec nginx -e stderr -c "$run/nginx.conf" -g "daemon off;"
