# syntax=docker/dockerfile:1
# Parley's container image: `parley relay` / `parley transceiver` / any `parley` command.
# Parley runs its TypeScript sources directly (Node 24 strips types), so there is no build
# step: stage 1 installs the production dependencies, stage 2 is the runtime with the
# image's own Node 24. The `node` devDependency (which pins Node 24 for npm scripts) is
# not installed: --omit=dev.
#
#   docker build -t parley:0.1.0 .
#   docker run --rm parley:0.1.0 keys generate
#
# Pin the base by digest for reproducible builds: --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:…
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Parley's native addons (native/, Node-API C: the relay's datapath, the transceiver's media
# socket, ...) are built here by its own install script (node-gyp); the toolchain stays in this
# stage, and the build fails if any addon did not build (processes would fall back to slower
# JavaScript paths with only a warning). No dependency needs a toolchain of its
# own: @evan/opus ships prebuilt native code and WebAssembly in its tarball, and bufferutil
# (optional; ws's native masking) ships its linux-x64 build, which its install script only finds.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY native/binding.gyp ./native/
COPY native/src ./native/src
# The image's Node ships its headers in /usr/local/include/node: no header download.
ENV npm_config_nodedir=/usr/local
RUN npm ci --omit=dev --no-audit --no-fund \
 && for t in $(sed -n 's/.*"target_name": *"\([a-z_]*\)".*/\1/p' native/binding.gyp); do \
      test -f "native/build/Release/$t.node" || { echo "native addon $t did not build" >&2; exit 1; }; \
    done \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# libopus0: the PCM handlers' loss recovery (in-band FEC, PLC) dlopen()s libopus.so.0
# (native/src/opus_native.c); without it lost frames are repeated faded, with a warning at start.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopus0 \
 && rm -rf /var/lib/apt/lists/*
# Owned by root and read-only to the runtime user: the process cannot change its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/native/build/Release/*.node ./native/build/Release/
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY web ./web
# uid 1000 ("node" in the official image); the manifests run it with runAsNonRoot.
USER node
# relay: 3478/udp public, 3479+/udp internal, 9090 ops HTTP; transceiver: 8080 HTTP, 7000/udp media.
EXPOSE 3478/udp 3479/udp 9090/tcp 8080/tcp 7000/udp
ENTRYPOINT ["node", "bin/parley.ts"]
CMD ["--help"]
