# syntax=docker/dockerfile:1
# One image for every role: `custodian start --target=<role>` (CUSTODIAN_TARGET) picks what
# runs; `custodian` alone lists the commands (the CLI is the entrypoint). Used as is by
# deploy/docker-compose.yml and helm/custodian; test/helm checks the three agree.
#   build:   npm ci (lockfile) → prisma generate + tsc + tsc-alias → production dependencies only
#   runtime: node, dist/, production node_modules, prisma/ + prisma.config.ts for migrations
#            (`node node_modules/prisma/build/index.js migrate deploy` = `npx prisma migrate deploy`),
#            no npm/yarn, numeric non-root user, works with a read-only root filesystem (/tmp only).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# package.json's allowScripts (npm 11) allows no dependency install script; the npm in this
# image predates allowScripts, so the same policy is spelled --ignore-scripts. Nothing needs one:
# Prisma runs without native engines (engine "js", driver adapter).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY apps ./apps
COPY libs ./libs
RUN npm run build \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm -rf node_modules/.cache

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="custodian" \
      org.opencontainers.image.description="Custodian: OTLP gateway, policy worker and admin API (one image, --target picks the role)"
ENV NODE_ENV=production CUSTODIAN_ENV=production
# The runtime needs neither npm nor yarn: less to patch, a smaller image.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json /src/prisma.config.ts ./
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
COPY --from=build --chown=root:root /src/prisma ./prisma
# prisma.config.ts loads the driver adapter from source for `prisma migrate deploy`.
COPY --from=build --chown=root:root /src/libs/db/src/pg-adapter.ts ./libs/db/src/pg-adapter.ts
# Numeric uid:gid (the image's "node" user): Kubernetes can only verify runAsNonRoot for a
# numeric user. Files stay root-owned and read-only to it.
USER 1000:1000
EXPOSE 4317 4318 9411 4000 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.CUSTODIAN_OPS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/apps/custodian/src/main.js"]
CMD ["start"]
