#!/bin/sh
# The panel container's entrypoint (Dockerfile): runs `npm start` (migrations, then the
# panel), and when the container is asked to stop (docker compose stop/down: SIGTERM) stops
# the panel and then everything it runs, as `npm run stop` does: its replica containers and
# the HAProxy it supervises in this container.
#
# Why stop the replicas here, when `npm start` on a machine leaves them running on purpose:
# in this container the balancer dies with the container anyway, so replicas left behind
# would serve nobody, and they are containers the panel created through the Docker socket
# (not compose's), attached to compose's network: `docker compose down` could not remove
# that network, nor would it remove them. The next `up` starts them again from the
# database in the data volume (the controller reconciles).
# A panel that crashes (no SIGTERM) leaves them; the restarted panel adopts them.
set -u
cd /app

node_modules/.bin/tsx scripts/start.ts &
panel=$!

stop_all() {
  trap '' TERM INT
  echo "[switchyard] stopping: the panel, then its replicas and balancer"
  kill -TERM "$panel" 2>/dev/null
  wait "$panel"
  node_modules/.bin/tsx scripts/stop.ts
  exit 0
}
trap stop_all TERM INT

wait "$panel"
code=$?
exit "$code"
