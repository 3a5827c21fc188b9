#!/usr/bin/env bash
# Runs Debian's nginx (apt-get install nginx-light) in front of chat nodes, in the foreground,
# with the configuration beside this script, on 127.0.0.1 only, everything under one directory.
#
#   ha-examples/nginx/run-nginx.sh [-p LISTEN_PORT] [-d DIR] NODE_HOST:PORT [NODE_HOST:PORT ...]
#
# e.g. three nodes started with
#   java -jar ha-examples/target/ha-chat.jar node --config node1.json --listen 127.0.0.1:8065   (and 8066, 8067)
# then
#   ha-examples/nginx/run-nginx.sh 127.0.0.1:8065 127.0.0.1:8066 127.0.0.1:8067
# and open http://127.0.0.1:8080/ . Ctrl-C stops nginx.
set -euo pipefail

listen_port=8080
dir=""
while getopts "p:d:" opt; do
  case "$opt" in
    p) listen_port="$OPTARG" ;;
    d) dir="$OPTARG" ;;
    *) echo "usage: $0 [-p LISTEN_PORT] [-d DIR] HOST:PORT..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ "$#" -lt 1 ]; then
  echo "usage: $0 [-p LISTEN_PORT] [-d DIR] HOST:PORT..." >&2
  exit 2
fi
nginx_bin="$(command -v nginx || true)"
[ -n "$nginx_bin" ] || nginx_bin=/usr/sbin/nginx
[ -x "$nginx_bin" ] || { echo "nginx is not installed: apt-get install nginx-light" >&2; exit 1; }

here="$(cd "$(dirname "$0")" && pwd)"
[ -n "$dir" ] || dir="$(mktemp -d -t ha-chat-nginx-XXXXXX)"
mkdir -p "$dir/tmp"
chmod 755 "$dir"
chmod 777 "$dir/tmp"   # nginx's workers run as nobody when it is started as root

# Wait for every node's ping: open-source nginx only learns a node is down from a failed request.
upstreams=""
for node in "$@"; do
  case "$node" in
    *[!0-9A-Za-z.:-]*) echo "not a host:port: $node" >&2; exit 2 ;;
  esac
  for _ in $(seq 1 60); do
    if curl -fsS -o /dev/null "http://$node/api/v4/system/ping" 2>/dev/null; then
      break
    fi
    sleep 1
  done
  curl -fsS -o /dev/null "http://$node/api/v4/system/ping" || { echo "node $node does not answer its ping" >&2; exit 1; }
  upstreams="${upstreams}        server $node max_fails=1 fail_timeout=5s;\n"
done

sed -e "s#@PREFIX@#$dir#g" -e "s#@LISTEN@#127.0.0.1:$listen_port#g" -e "s#@UPSTREAMS@#$upstreams#" \
  "$here/ha-chat.conf.template" > "$dir/nginx.conf"
echo "nginx on http://127.0.0.1:$listen_port/ in front of $*; logs in $dir (Ctrl-C stops it)"
exec "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
