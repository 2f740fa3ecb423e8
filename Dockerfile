# Samsa as a container: the npm package (as `npm pack` makes it) installed with production
# dependencies only, run as a non-root user, data in a volume.
#
#   docker build -t samsa .
#   docker run --rm -p 9092:9092 -p 9644:9644 samsa
#
# Settings come from KAFKA_* variables named as in the Apache Kafka image (README: "Container
# image"): KAFKA_LISTENERS, KAFKA_ADVERTISED_LISTENERS, KAFKA_NUM_PARTITIONS, ...; arguments
# after the image name replace `serve --http-host 0.0.0.0` (any `samsa` command line).

# --- build: compile TypeScript and the sendfile addon, then pack the package
FROM node:20-bookworm-slim AS build
# Debian's compiler packages are not pinned: bookworm's versions move with security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# npm ci, or npm install where npm's lockfile check trips over optional platform packages
# (the same fallback as .ci/run); --ignore-scripts: the addon is built below, from the sources.
RUN npm ci --no-audit --no-fund --ignore-scripts || npm install --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
COPY bench ./bench
COPY native ./native
# prepack builds dist/ and the prebuilt addon for this platform; the arm64 cross build is
# skipped here (no cross compiler in this stage), each image architecture builds its own.
RUN npm pack --pack-destination /tmp && mv /tmp/samsa-*.tgz /tmp/samsa.tgz

# --- runtime: the packed package and its production dependencies, nothing else
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    KAFKA_LISTENERS=PLAINTEXT://0.0.0.0:9092 \
    KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092 \
    KAFKA_LOG_DIRS=/var/lib/samsa/data
COPY --from=build /tmp/samsa.tgz /tmp/samsa.tgz
# --ignore-scripts: nothing to compile here (no compiler); the package's prebuilt addon for
# this architecture, made in the build stage, is loaded at run time (without one that loads,
# Samsa serves fetches on its copy path).
# (A local tarball: its dependencies' versions are the package's own ranges.)
# hadolint ignore=DL3016
RUN npm install --global --omit=dev --ignore-scripts --no-audit --no-fund /tmp/samsa.tgz \
 && rm /tmp/samsa.tgz \
 && npm cache clean --force \
 && mkdir -p /var/lib/samsa/data \
 && chown -R node:node /var/lib/samsa
# Writable by the broker's user: relative paths on a command line (--config, --data-dir) land here.
WORKDIR /var/lib/samsa
USER node
VOLUME ["/var/lib/samsa"]
# 9092: Kafka protocol; 9644: web console, /metrics, /healthz, /readyz.
EXPOSE 9092 9644
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9644/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["samsa"]
CMD ["serve", "--http-host", "0.0.0.0"]
