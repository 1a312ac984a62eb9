# syntax=docker/dockerfile:1
# One image for the API server, the workers and the migrations (README: "Image and compose").
#   docker build -t shipyard .
#   docker run shipyard                                                          the API server (default)
#   docker run shipyard node --heap-growing-percent=50 examples/koa-server/dist/worker.js   a worker
#   docker run shipyard node packages/adapters-db/dist/cli.js migrate            apply the migrations
# Configuration is the environment (.env.example); NODE_ENV=production requires JWT_SECRET and
# ENCRYPTION_KEYS and refuses to start with pending migrations.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# Build: every dependency (TypeScript included), then the server and the packages it imports.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The manifests first, so the dependency layer is rebuilt only when they change. npm ci checks
# every workspace of the lock file, so each workspace's package.json is needed.
COPY package.json package-lock.json ./
COPY packages/core/package.json packages/core/
COPY packages/adapters-http/package.json packages/adapters-http/
COPY packages/adapters-db/package.json packages/adapters-db/
COPY packages/adapters-queue/package.json packages/adapters-queue/
COPY packages/adapters-runtime/package.json packages/adapters-runtime/
COPY examples/koa-server/package.json examples/koa-server/
COPY examples/embedded-core/package.json examples/embedded-core/
COPY examples/test-harness/package.json examples/test-harness/
COPY test/package.json test/
COPY bench/package.json bench/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY packages packages
COPY examples/koa-server examples/koa-server
# The composition root and, through its project references, the five packages.
RUN npx tsc -b examples/koa-server \
  && find packages/*/dist examples/koa-server/dist \( -name '*.test.*' -o -name '.tsbuildinfo' \) -delete

# Runtime: production dependencies of the server's workspaces and their compiled output only.
FROM ${NODE_IMAGE} AS runtime
# git clones the services' repositories (RUNTIME=local), sh runs their build and start commands,
# prlimit (util-linux) applies APP_MEMORY_MB and the other limits, ca-certificates for https
# clones, tini as PID 1 reaps what the builds and apps leave behind and forwards signals.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates git tini util-linux \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
  DATA_DIR=/var/lib/shipyard
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/core/package.json packages/core/
COPY packages/adapters-http/package.json packages/adapters-http/
COPY packages/adapters-db/package.json packages/adapters-db/
COPY packages/adapters-queue/package.json packages/adapters-queue/
COPY packages/adapters-runtime/package.json packages/adapters-runtime/
COPY examples/koa-server/package.json examples/koa-server/
COPY examples/embedded-core/package.json examples/embedded-core/
COPY examples/test-harness/package.json examples/test-harness/
COPY test/package.json test/
COPY bench/package.json bench/
# Only examples/koa-server's tree: the five packages it links and their dependencies, no devDependencies.
RUN npm ci --omit=dev --workspace=examples/koa-server --include-workspace-root=false \
    --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force
COPY --from=build /app/packages/core/dist packages/core/dist
COPY --from=build /app/packages/adapters-http/dist packages/adapters-http/dist
COPY --from=build /app/packages/adapters-db/dist packages/adapters-db/dist
COPY --from=build /app/packages/adapters-queue/dist packages/adapters-queue/dist
COPY --from=build /app/packages/adapters-runtime/dist packages/adapters-runtime/dist
COPY --from=build /app/examples/koa-server/dist examples/koa-server/dist
# The embedded database (no DATABASE_URL), the build directories and the apps' records
# (RUNTIME_DIR, default $DATA_DIR/runtime) live here: mount a volume.
RUN mkdir -p /var/lib/shipyard && chown node:node /var/lib/shipyard
VOLUME ["/var/lib/shipyard"]
# The node image's unprivileged user. Builds and apps then run as this user too (not a uid per
# service: that needs root, see APP_UID_BASE).
USER node
EXPOSE 3000 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--heap-growing-percent=50", "examples/koa-server/dist/main.js"]
