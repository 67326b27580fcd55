#!/bin/sh
# like the official image: protected mode off (built in there), the server runs as the redis user
if [ "$1" = redis-server ]; then shift; exec setpriv --reuid=redis --regid=redis --init-groups redis-server --protected-mode no "$@"; fi
exec "$@"
