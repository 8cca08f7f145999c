# syntax=docker/dockerfile:1
# Regal POS: one image that runs any part of the suite.
#
#   docker build -t regal-pos .
#   docker run regal-pos serve catalog      # or: serve all | auth | sales | audit | gateway
#   docker run regal-pos migrate auth       # apply one service's migrations and exit
#   regal healthcheck <part>                # the health-check command (no curl in the image)
#
# The default command is `serve all` (the whole suite in one container) with a matching
# HEALTHCHECK; docker-compose.yml and k8s/ run one part per container and set their own.
# Configuration is the environment (README "Configuration"); the image sets only
# HOST=0.0.0.0 and APP_ENV=production, so it refuses to start without real secrets.

ARG RUST_VERSION=1.95
ARG CARGO_CHEF_VERSION=0.1.78
ARG NODE_VERSION=20

# --- build tools: the Rust toolchain and cargo-chef (from crates.io) ------------------------
FROM rust:${RUST_VERSION}-slim-bookworm AS chef
ARG CARGO_CHEF_VERSION
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /build

# --- the recipe: the workspace's manifests and lock file, nothing else ----------------------
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json --bin regal

# --- dependencies first (a layer that changes only with Cargo.toml/Cargo.lock), then ours ---
FROM chef AS builder
# Compile-time checked queries (sqlx::query!) read the committed `.sqlx/` offline data,
# copied in with the sources below; the build never needs a database.
ENV SQLX_OFFLINE=true \
    CARGO_TERM_COLOR=never
COPY --from=planner /build/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --package regal
# protox compiles proto/ in libs/proto/build.rs: no protoc needed.
COPY . .
RUN cargo build --release --locked --package regal \
    && install -D -m 0755 target/release/regal /out/regal

# --- the web dashboard: gRPC-web client generated from proto/, typechecked and bundled ----
FROM node:${NODE_VERSION}-bookworm-slim AS dashboard
WORKDIR /build/dashboard
COPY dashboard/package.json dashboard/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY proto /build/proto
COPY dashboard/ ./
RUN npm run build

# --- runtime: glibc + libgcc, CA certificates, no shell, no package manager, non-root ------
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="regal-pos" \
      org.opencontainers.image.description="Regal POS backend: gateway and gRPC services (regal serve <part>)" \
      org.opencontainers.image.licenses="MIT"
COPY --from=builder /out/regal /usr/local/bin/regal
COPY --from=dashboard /build/dashboard/dist /usr/share/regal/dashboard
ENV HOST=0.0.0.0 \
    APP_ENV=production \
    DASHBOARD_DIR=/usr/share/regal/dashboard
# Numeric, so Kubernetes can check runAsNonRoot against it (distroless "nonroot").
USER 65532:65532
# gateway (REST, gRPC-web, gRPC), auth, catalog, sales, audit
EXPOSE 8000 50051 50052 50053 50054
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/regal", "healthcheck", "all"]
ENTRYPOINT ["/usr/local/bin/regal"]
CMD ["serve", "all"]
