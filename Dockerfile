# syntax=docker/dockerfile:1
# One image for every role: `custodian start --target=<role>` (CUSTODIAN_TARGET) picks what
# runs; `custodian` alone lists the commands. Non-root, no build tools in the final stage.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY apps ./apps
COPY libs ./libs
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production CUSTODIAN_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json /src/prisma.config.ts ./
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
COPY --from=build --chown=root:root /src/prisma ./prisma
# prisma.config.ts loads the driver adapter from source for `prisma migrate deploy`.
COPY --from=build --chown=root:root /src/libs/db/src/pg-adapter.ts ./libs/db/src/pg-adapter.ts
USER node
EXPOSE 4317 4318 9411 4000 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.CUSTODIAN_OPS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/apps/custodian/src/main.js"]
CMD ["start"]
