# One image for every service and the CLI; the command picks which one runs.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps apps
COPY libs libs
COPY examples examples
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production AGENTOS_LOG_FORMAT=json
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY bin bin
# /auth: NATS credentials (docker-compose's natsauth volume takes this owner when first created)
RUN mkdir -p /auth && chown node:node /auth
USER node
# kernel | policy | recorder | vfs
CMD ["node", "dist/apps/kernel/src/main.js"]
