# goal-signals: one image with all seven executables; each container runs one of them (see docker-compose.yml).
# Builds with BuildKit (docker compose v2 always; with docker-compose v1 set DOCKER_BUILDKIT=1 and
# COMPOSE_DOCKER_CLI_BUILD=1), which keeps SwiftPM's build folder between builds.
#
# The base images are build arguments whose defaults are the official images. Where no registry answers,
# scripts/compose-test.sh makes local stand-ins and passes them.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- build: the release binaries (and the resource bundles they read beside them), linked to the Swift
# runtime's shared libraries (shipped once, not once per executable)
FROM ${SWIFT_IMAGE} AS build
# The version the binaries report (`goalctl --version`); the build context has no .git to describe.
ARG GOAL_SIGNALS_VERSION=unknown
RUN apt-get update \
 && apt-get install -y --no-install-recommends libhiredis-dev libjemalloc-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
# Crash backtraces, symbolicated: frame pointers let the runtime's backtracer (copied beside the binaries) walk
# every frame, and the symbols and line tables it reads stay in the binaries, their debug sections compressed.
RUN --mount=type=cache,target=/src/.build \
    swift build -c release -Xswiftc -gline-tables-only -Xswiftc -Xllvm -Xswiftc -frame-pointer=all \
 && bin="$(swift build -c release --show-bin-path)" \
 && exes="gateway karaoke goals sessions escrow tracking goalctl" \
 && mkdir -p /out/bin /out/libexec /out/lib \
 && for exe in $exes; do \
      objcopy --compress-debug-sections=zlib "$bin/$exe" "/out/bin/$exe" ; \
    done \
 && for bundle in "$bin"/*.resources; do \
      if [ -e "$bundle" ]; then cp -R "$bundle" /out/bin/ ; fi ; \
    done \
 && (cd /out/bin && ldd $exes) | awk '$3 ~ /\/lib\/swift\/linux\// { print $3 }' | sort -u | xargs -I{} cp -L {} /out/lib/ \
 && install -m 0755 "$(dirname "$(command -v swift)")/../libexec/swift/linux/swift-backtrace-static" /out/libexec/

# ---- runtime: Debian with hiredis, nothing else
FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libhiredis0.14 libjemalloc2 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --uid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin goal
COPY --from=build /out/lib/ /usr/local/lib/swift/
RUN echo /usr/local/lib/swift > /etc/ld.so.conf.d/swift.conf && ldconfig
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build /out/libexec/ /usr/local/libexec/
COPY Config/*.json /app/Config/
WORKDIR /app
ENV CONFIG_FILE=/app/Config/docker.json \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=mentioned,interactive=no,swift-backtrace=/usr/local/libexec/swift-backtrace-static
USER goal
EXPOSE 8080 9090
CMD ["gateway"]
