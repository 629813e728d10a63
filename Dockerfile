# syntax=docker/dockerfile:1
# Hookyard's container image. Three stages: `build` installs everything and runs the package's build
# script (the web UI) when it has one; `deps` installs production dependencies only, from the lock
# file, into a clean tree; the runtime stage is node:24-slim with those two and nothing else, run as
# the unprivileged `node` user. Node 24 runs the TypeScript sources directly (type stripping), so
# there is no compile step for the server. Build: docker build -t hookyard .
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build --if-present && rm -rf node_modules

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOOKYARD_DATA_DIR=/data \
    HOOKYARD_HOST=0.0.0.0 \
    HOOKYARD_PORT=8071
WORKDIR /app
COPY --from=build --chown=root:root /app ./
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
# The code is root-owned and read-only to the server; only the data directory is its to write.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8071
# Liveness only: a database outage must not get the container killed (readiness is /readyz).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HOOKYARD_PORT || 8071) + '/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM starts the graceful drain (readyz 503, writes refused, in-flight work finishes, exit 0).
STOPSIGNAL SIGTERM
# The Node flags are npm start's (package.json; src/cli/hookyard.mjs says why).
CMD ["node", "--max-semi-space-size=16", "src/cli/hookyard.mjs", "serve"]
