# syntax=docker/dockerfile:1
# The snapmask image: the snapmask binary, pg_dump 15, the C client libraries, the shipped rules
# and the staging job file. Run by the CronJobs in k8s/.
#
#   docker build -t registry.quikapp.dev/snapmask:0.1.0 .
#   docker run --rm registry.quikapp.dev/snapmask:0.1.0 --version
#
# The default job file is /etc/snapmask/snapmask.yaml (k8s/config/snapmask.yaml, with the rules
# under /etc/snapmask/rules/); in Kubernetes the ConfigMap snapmask-config is mounted over
# /etc/snapmask. snapmask always takes it explicitly: `run --config /etc/snapmask/snapmask.yaml`.
# Needs BuildKit (the default builder of current Docker) for ADD --chmod.

# Official Swift image, Swift 6.3 on Debian 12: tag swift:6.3-bookworm. Pin the digest in CI
# (swift:6.3-bookworm@sha256:...) for reproducible builds.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ------------------------------------------------------------------------------------- build
FROM ${SWIFT_IMAGE} AS build

# The -dev packages the system library targets (CLibPQ, CMySQL, CMongoC, CZstd, CLibCrypto) compile and
# link against, found through pkg-config. Unpinned on purpose: bookworm's point releases are
# security fixes, and exact versions disappear from the archive.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpq-dev \
        default-libmysqlclient-dev \
        libmongoc-dev \
        libbson-dev \
        libzstd-dev \
        libssl-dev \
        pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Dependencies first: this layer is reused until Package.swift (or Package.resolved) changes.
COPY Package.* ./
RUN swift package resolve

# SwiftPM loads every target of the package, so the test and benchmark folders come too.
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks

# Swift's runtime and Foundation are linked in statically; the C libraries stay dynamic and come
# from Debian in the runtime stage.
RUN swift build -c release --product snapmask --static-swift-stdlib \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/snapmask" /out/snapmask

# ----------------------------------------------------------------------------------- runtime
FROM ${RUNTIME_IMAGE}

# Runtime libraries only: libpq5 (PostgreSQL), libmariadb3 (what Debian's
# default-libmysqlclient-dev links), libmongoc/libbson (DocumentDB), libzstd1 (snapshot parts),
# libssl3 (libcrypto's SHA-256 for the masking HMAC),
# libstdc++6 (the Swift runtime's C++ parts), libcurl4 (Foundation's URLSession: S3 and the
# Pushgateway), ca-certificates (S3 over HTTPS), and
# postgresql-client-15 for the pg_dump that snapmask runs to read PostgreSQL schemas (it finds
# /usr/lib/postgresql/15/bin/pg_dump; a production server newer than 15 needs a newer client).
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates \
        libbson-1.0-0 \
        libcurl4 \
        libmariadb3 \
        libmongoc-1.0-0 \
        libpq5 \
        libssl3 \
        libstdc++6 \
        libzstd1 \
        postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*

# The Amazon RDS CA bundle, for TLS to Aurora and DocumentDB with certificate verification
# (sslrootcert= and tlsCAFile= in the job file).
ADD --chmod=0644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
# The bundle snapmask verifies PostgreSQL and MySQL servers with off loopback, unless a URL names
# its own (sslrootcert=, ssl-ca=).
ENV SNAPMASK_CA_FILE=/etc/ssl/certs/rds-global-bundle.pem

# A fixed non-root user; the Kubernetes manifests run as this uid (runAsUser: 10001).
RUN groupadd --system --gid 10001 snapmask \
    && useradd --system --uid 10001 --gid snapmask --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin snapmask

COPY --from=build /out/snapmask /usr/local/bin/snapmask
COPY rules /etc/snapmask/rules
COPY k8s/config/snapmask.yaml /etc/snapmask/snapmask.yaml

# Fails the build here, not at 02:00 on Sunday, when a shared library is missing.
RUN snapmask --version

USER 10001:10001
# libpq and libmongoc look in $HOME for dotfiles; /tmp is the only writable place in the pods.
ENV HOME=/tmp
WORKDIR /tmp

LABEL org.opencontainers.image.title="snapmask" \
      org.opencontainers.image.description="Restores sanitized (PII-masked) copies of production databases into staging"

ENTRYPOINT ["snapmask"]
CMD ["--help"]
