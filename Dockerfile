# Rollcall: the SCIM 2.0 provisioning server, as a container image.
#
#   docker build -t rollcall --build-arg ROLLCALL_COMMIT=$(git rev-parse HEAD) .
#   docker run -p 8080:8080 -v rollcall-data:/data -e PUBLIC_URL=https://scim.example.com rollcall
#
# No container runtime runs in this project's CI, so test/ops/dockerfile.test.ts
# replays this file's build and run steps outside a container: the same COPY,
# RUN, ENV, USER and CMD lines, in a fresh directory, as an unprivileged user,
# and checks that the server answers /readyz. Keep RUN lines plain shell that
# works there too; lines installing system packages (apt-get) are the one part
# it leaves to the machine. See docs/deploy.md.

ARG NODE_VERSION=22

# --- build: dependencies (better-sqlite3 compiles here) and dist/ ----------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY web ./web
# npm ci runs `prepare`, which builds dist/ (the server, and the console from web/ into dist/console).
RUN npm ci --no-audit --no-fund
RUN npm prune --omit=dev --no-audit --no-fund

# --- run: only what serving needs, as a user without privileges -------------------
FROM node:${NODE_VERSION}-bookworm-slim
ARG ROLLCALL_COMMIT=
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATABASE_URL=sqlite:/data/rollcall.db \
    LOG_FORMAT=json \
    MALLOC_ARENA_MAX=2 \
    ROLLCALL_COMMIT=${ROLLCALL_COMMIT}
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--max-semi-space-size=2", "--optimize-for-size", "dist/cli.js", "serve"]
