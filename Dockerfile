# The Seamless controller. Build: docker build -t seamless .   (or: docker-compose build)
FROM node:20-bookworm-slim
WORKDIR /app
# Dependencies first, so that source edits do not invalidate the npm layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund
ENV NODE_ENV=production \
    SEAMLESS_OPENFLOW_PORT=6653 \
    SEAMLESS_HTTP_PORT=8080 \
    SEAMLESS_STATE_DIR=/var/lib/seamless
VOLUME /var/lib/seamless
EXPOSE 6653 8080
# Node flags: controller/node-flags.ts (why), test/unit/node-flags.test.ts (that they match)
CMD ["node", "--max-semi-space-size=64", "--min-semi-space-size=16", "dist/controller/main.js"]
