# The Switchyard panel with HAProxy in the same container (supervised by the panel) and
# the Docker runtime (the Docker socket is mounted by docker-compose.yml).
#
#   docker compose build          (docker-compose.yml passes the build arguments)
#
# Bases: node:22-bookworm-slim from a registry. Without a registry,
# scripts/build-base-images.sh builds that tag locally (Debian bookworm from debootstrap plus
# THIS machine's own Node, 20.19 or newer: see the script) and, with --panel-deps, an image
# holding this checkout's node_modules (switchyard/panel-deps:local, installed by `npm install`
# on the host for the same Node binary), so nothing here needs the npm registry.
#
# Build arguments:
#   NODE_IMAGE   the Node base (default node:22-bookworm-slim)
#   DEPS_IMAGE   where node_modules come from: the default (no-deps, a stage below) has none, so
#                `npm install` runs with the committed lockfile (needs the npm registry and
#                compiles better-sqlite3 when no prebuilt binary downloads); an image made by
#                `scripts/build-base-images.sh --panel-deps` brings them ready (no registry).
# The build needs Debian's apt (haproxy); docker-compose.yml builds with the host's network.
ARG NODE_IMAGE=node:22-bookworm-slim
ARG DEPS_IMAGE=no-deps

# the default DEPS_IMAGE: no node_modules (an empty folder), so they are installed below
FROM ${NODE_IMAGE} AS no-deps
RUN mkdir -p /deps/node_modules

# an image from --panel-deps holds /deps/node_modules (and nothing else)
FROM ${DEPS_IMAGE} AS deps

FROM ${NODE_IMAGE}
# HAProxy 2.6 (Debian bookworm's), run by the panel inside this container; ca-certificates for
# the npm registry when node_modules are installed here.
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends haproxy ca-certificates procps \
 && rm -rf /var/lib/apt/lists/*
# The panel refuses to start process replicas as root; replicas here are containers, but the
# user exists so a service switched to the process runtime still has it. HAProxy's workers drop
# to switchyard-engine (ENGINE_USER) while its master, like the panel here, is root.
RUN useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin switchyard-replica \
 && useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin switchyard-engine

WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY --from=deps /deps/node_modules ./node_modules
# No node_modules from DEPS_IMAGE: install them (build tools only for this step, removed after).
# Node's headers are where this Node is installed (the project's .npmrc says /usr, the host's).
RUN if [ -f node_modules/.package-lock.json ]; then \
      echo "node_modules from DEPS_IMAGE ($(ls node_modules | wc -l) packages)"; \
    else \
      apt-get update -q \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 make g++ \
      && npm_config_nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")" \
         npm install --no-audit --no-fund \
      && apt-get purge -y -q python3 make g++ && apt-get autoremove -y -q && rm -rf /var/lib/apt/lists/* /root/.npm; \
    fi \
 && node -e 'require("better-sqlite3")' \
 && node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (!(a>20||(a===20&&b>=19))) { console.error("node "+process.version+": the panel needs >= 20.19"); process.exit(1) }'

COPY . .
RUN chmod 0755 scripts/docker-entrypoint.sh \
 && NEXT_TELEMETRY_DISABLED=1 npx prisma generate >/dev/null \
 && NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 npx next build \
 && rm -rf .next/cache

# In the container: listen on every interface of the container (docker-compose.yml publishes
# the ports on 127.0.0.1 of the host), data in the /data volume, replicas as Docker containers.
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    HOST=0.0.0.0 \
    PORT=3000 \
    BALANCER_PORT=8080 \
    DATA_DIR=/data \
    RUNTIME=docker \
    ENGINE=haproxy
VOLUME /data
EXPOSE 3000 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["scripts/docker-entrypoint.sh"]
