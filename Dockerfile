# One image for every Longform process; the command chooses which one runs:
#   python -m services.<audit|planner|generator|assembler|gateway>
#   python -m longform_cli db migrate
#   python -m fake_llm --host 0.0.0.0 --port 8900
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# The locked runtime dependencies alone first, so a code change does not reinstall them. Not the
# embedded Postgres and NATS of `longform up` (the `embedded` extra) nor the test tools: those are
# in requirements-dev.lock, which ./run and ./test install.
COPY requirements.lock ./
RUN pip install --only-binary=:all: -r requirements.lock

COPY . .
# Editable, because services find the SQL migrations beside the package (/app/migrations).
RUN pip install --no-deps -e . \
 && useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin longform

USER 10001:10001
# 8080: the gateway (API, /healthz, /readyz, /metrics); 9101-9104: the ops port of audit, planner,
# generator and assembler (/healthz, /readyz, /metrics; LONGFORM_OPS_PORT changes it).
EXPOSE 8080 9101 9102 9103 9104
CMD ["cat", "/app/deploy/docker/usage.txt"]
