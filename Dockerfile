# syntax=docker/dockerfile:1
# One image for every Baobei component; the command picks it:
#   baobei serve registry|approval|tasks|reporting|notify · baobei worker · baobei edge
#   baobei migrate <service>|all · baobei temporal-setup
# Reproducible from requirements.lock: exact pins, a pinned base image (pin its digest in your
# registry mirror), no network at run time. Build: docker build -t baobei:$(git rev-parse --short HEAD) .

ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm
ARG NODE_IMAGE=node:22.20.0-bookworm-slim

# ---- web stage: the web app (web/) built by Vite from its lock file; only web/dist leaves it
FROM ${NODE_IMAGE} AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# ---- build stage: compilers allowed here, never in the final image
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/baobei/venv
ENV PATH=/opt/baobei/venv/bin:$PATH
WORKDIR /opt/baobei/app
# Dependencies first (a cached layer that changes only with the lock): the runtime dependencies of
# pyproject.toml, every version taken from requirements.lock (dev tools are not installed).
COPY requirements.lock pyproject.toml ./
RUN grep -E '^setuptools==' requirements.lock > /tmp/build-reqs.txt \
 && pip install -r /tmp/build-reqs.txt \
 && python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
    > /tmp/runtime-reqs.txt
RUN pip install -c requirements.lock -r /tmp/runtime-reqs.txt \
 && pip check
# Then the project itself (source kept in /opt/baobei/app: migrations, templates and data files
# are read from it), without touching the pinned dependencies.
COPY baobei ./baobei
COPY services ./services
COPY workflows ./workflows
COPY edge ./edge
COPY cli ./cli
COPY proto ./proto
COPY README.md ./
# The built web app, served by the edge under / (settings.web_dist defaults to web/dist here).
COPY --from=web /web/dist ./web/dist
RUN pip install --no-deps --no-build-isolation -e . \
 && python -m compileall -q /opt/baobei/app /opt/baobei/venv/lib \
 && baobei --help > /dev/null

# ---- final stage: the runtime only (no compilers, no apt caches), non-root, read-only root ok
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/baobei/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BAOBEI_DATA_DIR=/var/lib/baobei \
    BAOBEI_LOG_FORMAT=json \
    HOME=/tmp
RUN groupadd --system --gid 10001 baobei \
 && useradd --system --uid 10001 --gid baobei --home-dir /nonexistent --shell /usr/sbin/nologin baobei \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/baobei
COPY --from=build /opt/baobei /opt/baobei
WORKDIR /opt/baobei/app
# Writable at run time: /var/lib/baobei (data dir) and /tmp; mount both as emptyDir volumes when
# the root filesystem is read-only (the manifests do).
VOLUME ["/var/lib/baobei", "/tmp"]
USER 10001:10001
EXPOSE 8000 50061 50062 50063 50064 50065 9464
ENTRYPOINT ["baobei"]
CMD ["--help"]
