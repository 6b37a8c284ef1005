# syntax=docker/dockerfile:1
# goal-signals: one image with all seven executables; each container runs one of them (see docker-compose.yml).

# ---- build: the release binaries, with the Swift runtime linked in statically
ARG SWIFT_IMAGE=swift:6.3-bookworm
FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libhiredis-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --static-swift-stdlib \
 && bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" \
 && mkdir -p /out \
 && for exe in gateway karaoke goals sessions escrow tracking goalctl; do \
      install -m 0755 "$bin/$exe" /out/ ; \
    done \
 && strip /out/*

# ---- runtime: Debian with hiredis, nothing else
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libhiredis0.14 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --uid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin goal
COPY --from=build /out/ /usr/local/bin/
COPY Config/ /app/Config/
WORKDIR /app
ENV CONFIG_FILE=/app/Config/docker.json
USER goal
EXPOSE 8080 9090
CMD ["gateway"]
