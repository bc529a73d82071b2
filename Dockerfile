# imagewire serve (and worker) in a container: built in one stage, run from a small one as a
# non-root user. The runtime keeps sharp's native parts (prebuilt for linux-x64 and linux-arm64).
#   docker build -t imagewire .
#   docker run -p 8080:8080 -e IMAGEWIRE_API_KEYS=... imagewire
#   docker run imagewire worker --redis redis://redis:6379

FROM node:22-bookworm-slim AS build
WORKDIR /app
# `npm ci` builds dist/ itself (the prepare script), so the sources come first.
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm ci --no-audit --no-fund \
  && npm prune --omit=dev --no-audit --no-fund \
  && npm install --no-save --omit=dev --no-audit --no-fund "sharp@$(node -p "require('./package.json').peerDependencies.sharp")"

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    IMAGEWIRE_HOST=0.0.0.0 \
    IMAGEWIRE_PORT=8080
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["node", "dist/cli/main.js", "health"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve", "--no-page"]
