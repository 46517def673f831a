"""Settings, read from the environment (``BAOBEI_*``) once in ``main()`` and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("registry", "approval", "tasks", "reporting", "notify")
DEFAULT_GRPC_PORTS = {"registry": 50061, "approval": 50062, "tasks": 50063, "reporting": 50064, "notify": 50065}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BAOBEI_", extra="ignore")

    data_dir: Path = Path("./data")
    port: int = 8000
    host: str = "127.0.0.1"
    # Public base URL for links in notifications; default http://<host>:<port>.
    base_url: str = ""
    admin_token: str = ""
    # The built web app (``./bb web build``); empty = web/dist of the source tree.
    web_dist: str = ""
    # `baobei dev --demo`: load cli/demo.py's org, form, policy and people once ready.
    dev_demo: bool = False

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    task_queue: str = "baobei"
    # Bulk work (notification deliveries and their outbox dispatcher) runs on its own queue and
    # worker (`baobei worker --role delivery`), so a dead channel never slows decisions.
    delivery_task_queue: str = "baobei-delivery"

    # Empty = embedded Redis under the data dir (dev) or none (single service).
    redis_url: str = ""

    # Peer addresses; empty = 127.0.0.1:<default port>.
    registry_addr: str = ""
    approval_addr: str = ""
    tasks_addr: str = ""
    reporting_addr: str = ""
    notify_addr: str = ""

    # Database URLs per service; empty = sqlite:///<data_dir>/<service>.db
    registry_db_url: str = ""
    approval_db_url: str = ""
    tasks_db_url: str = ""
    reporting_db_url: str = ""
    notify_db_url: str = ""

    # Log rendering: "json", "console" or "auto" (console on a TTY).
    log_format: str = "auto"
    log_level: str = "INFO"
    # OpenTelemetry traces (baobei/core/telemetry.py): OTLP/gRPC collector, e.g.
    # http://otel-collector:4317; empty = tracing off (no spans, no overhead).
    otlp_endpoint: str = ""
    # Plaintext to the collector; an https:// endpoint or False = TLS with the system's roots.
    otlp_insecure: bool = True
    # Deadline for calls between components, seconds.
    rpc_timeout: float = 10.0
    # Deadline for batch operations an admin starts and waits for (a read-model rebuild re-folds
    # the whole event log: minutes on a large one), seconds.
    batch_rpc_timeout: float = 600.0
    # Each service's database pool (PostgreSQL): connections kept open when idle, and how many more
    # a burst may open (closed again when returned). Size the server's max_connections (or a
    # PgBouncer) for replicas × (pool size + overflow).
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # Workflow instances the lifecycle worker keeps in memory between tasks (the SDK's default is
    # 1000); an evicted one is replayed from its history on its next task. ~0.45 MiB each
    # (docs/performance.md, bench.soak).
    worker_max_cached_workflows: int = 200
    # Run workflow code inside Temporal's sandbox (the ``workflows`` package passed through) instead
    # of as plain host code. Off by default: the sandbox's own machinery was ~28% of the worker's
    # CPU per project (docs/performance.md), while determinism is checked by the workflow tests and
    # the replay tests, which run under the SDK's strict sandbox. Turn it on to get the sandbox's
    # runtime checks in a deployment that runs workflow code not covered by those tests.
    workflow_sandbox: bool = False

    # gRPC between components over TLS (files, e.g. mounted from a Secret). cert+key: this
    # component's identity (served by services, presented by clients); ca: trust roots for peers,
    # and with it services require client certificates (mTLS). Services with a cert serve TLS only.
    grpc_tls_cert: str = ""
    grpc_tls_key: str = ""
    grpc_tls_ca: str = ""
    # Name the peers' certificates are checked against, when it is not the host of the address.
    grpc_tls_server_name: str = ""
    # Refuse to start without cert, key and ca (no plaintext between components).
    grpc_tls_required: bool = False
    # Plaintext port serving only grpc.health.v1 (kubelet gRPC probes cannot speak TLS); 0 = none.
    grpc_health_port: int = 0

    # The blob store (baobei/core/blobs.py) of registry attachments and task deliverables: empty
    # bucket = files under <data_dir>/attachments (registry) and <data_dir>/files (tasks). Otherwise
    # objects <prefix><sha256 hex> in this bucket of S3 or an S3-compatible store (MinIO …) at the
    # endpoint URL (empty = AWS); empty access key id and secret = boto3's standard credential chain.
    attachments_s3_bucket: str = ""
    attachments_s3_prefix: str = ""
    # Object key prefix of task deliverables in that bucket.
    deliverables_s3_prefix: str = "deliverables/"
    attachments_s3_endpoint_url: str = ""
    attachments_s3_region: str = ""
    attachments_s3_access_key_id: str = ""
    attachments_s3_secret_access_key: str = ""

    # Rule webhooks may target loopback / link-local / private addresses (tests, on-premises receivers).
    webhook_allow_internal: bool = False
    # Gantt formats offered by GET …/schedule?format= (comma-separated, of "svg" and "pdf"; json always).
    gantt_formats: str = "svg,pdf"

    # Key sealing the registry's stored secrets (sign-in provider secrets, TOTP secrets; any string
    # of at least 16 characters, run through HKDF). Empty = the registry generates one and keeps
    # it in its own database. Previous keys, comma-separated, stay readable during a rotation.
    registry_secrets_key: str = ""
    registry_secrets_old_keys: str = ""

    # ---- notifications (issue 5) ----
    # Action links: HMAC key (empty = the notify service generates one and keeps it in its
    # database) and lifetime.
    link_signing_key: str = ""
    link_ttl_hours: int = 72
    # SMTP relay for e-mail; empty host = e-mail off, except under `baobei dev`, which runs a local
    # sink (BAOBEI_SMTP_SINK_PORT) and points here. starttls: upgrade the connection; ssl: implicit TLS.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "Baobei 报备 <baobei@localhost>"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout: float = 10.0
    # Local SMTP sink under `baobei dev` (0 = none); its mails are kept under <data_dir>/mails.
    smtp_sink_port: int = 0
    # Robots (DingTalk custom robot, WeCom group robot) accept at most this many messages a minute;
    # beyond it, waiting messages go out together as one digest.
    robot_rate_per_minute: int = 20
    # Attempts per delivery before it is dead-lettered (activity retries with exponential backoff).
    delivery_max_attempts: int = 6
    delivery_initial_backoff_seconds: float = 1.0
    delivery_max_backoff_seconds: float = 60.0
    # HTTP timeout of robot and webhook calls, seconds.
    delivery_http_timeout: float = 10.0
    # Inbound CRM webhooks: Standard Webhooks secret ("whsec_…"); empty = token auth only.
    crm_signing_secret: str = ""
    # Inbound finance cost feed (金蝶 / 用友 vouchers): Standard Webhooks secret; empty = token auth only.
    finance_signing_secret: str = ""

    # ---- HTTP edge limits (issue 12) ----
    # Request body caps in bytes, enforced while the body streams in (413 beyond): JSON and form
    # bodies; multipart uploads (attachments, deliverables; files ≤ 20 MB plus framing); imports
    # (project imports ≤ 50 MB, org directory sync).
    max_json_body_bytes: int = 1024 * 1024
    max_upload_body_bytes: int = 25 * 1024 * 1024
    max_import_body_bytes: int = 55 * 1024 * 1024
    # Rate limits (Redis), each "at most N per rate_limit_window_seconds" (0 = no limit): requests
    # per access token, failed authentications per client IP, action link requests per client IP,
    # approval decisions, exports (and rendered reports / charts) and uploads (and imports) per user.
    rate_limit_window_seconds: int = 60
    rate_limit_token: int = 12000
    rate_limit_auth_failures: int = 300
    rate_limit_action_links: int = 300
    rate_limit_decisions: int = 600
    rate_limit_exports: int = 120
    rate_limit_uploads: int = 300

    # Browser sessions (Redis): signed out after this long without a request, and in any case
    # this long after signing in. Cookies are Secure when "auto" sees HTTPS (base URL or request),
    # always with "always", never with "never" (plain-HTTP development only).
    session_idle_minutes: int = 120
    session_absolute_hours: int = 12
    session_cookie_secure: str = "auto"

    # Audit log retention: events older than this many days are removed once a day (the
    # AuditRetention workflow on the worker); the remaining chain stays verifiable. 0 = keep forever.
    audit_retention_days: int = 365
    # ---- OIDC sign-in (issue 13) ----
    # Timeout (s) of each call to a provider (discovery, JWKS, token, userinfo); its discovery
    # document and keys are cached this long (keys are fetched again at once for an unknown key).
    oidc_http_timeout: float = 10.0
    oidc_metadata_ttl_seconds: int = 3600
    # Sign-ins started per client IP per rate_limit_window_seconds (each holds a pending login in Redis).
    rate_limit_sso_starts: int = 60
    # `baobei dev --dev-oidc`: also run a local OIDC provider (oidc-provider-mock) on this port
    # (a free one when taken) and register it as sign-in provider "dev-oidc".
    dev_oidc: bool = False
    dev_oidc_port: int = 9400
    # Local accounts (registry): minimum password length (at least 8; at most 128 characters are
    # accepted), consecutive failures before a lockout, its first period (doubling with each
    # further failure up to the maximum), and the lifetimes of invite and reset links.
    password_min_length: int = 10
    login_max_failures: int = 5
    login_lockout_seconds: int = 60
    login_lockout_max_seconds: int = 3600
    invite_link_ttl_hours: int = 72
    reset_link_ttl_hours: int = 1
    # argon2id parameters of password hashes (OWASP's recommendation; raise them on strong
    # hardware: every password is rehashed at its next sign-in).
    password_hash_time_cost: int = 2
    password_hash_memory_kib: int = 19456
    password_hash_parallelism: int = 1
    # Edge, per client IP and rate_limit_window_seconds: failed sign-ins (password and LDAP, one
    # budget; and dead setup links), and "forgot password" requests.
    rate_limit_login_failures: int = 30
    rate_limit_password_forgot: int = 20

    # ---- metrics (issue 18) ----
    # Prometheus /metrics of this process on <host>:<port> (0 = none). In Kubernetes every pod uses
    # the same port; components sharing one machine (`baobei dev`) take theirs from metrics_ports,
    # "component=port,…" (edge, the five services, worker, delivery-worker; worker-sdk and
    # delivery-worker-sdk: the loopback port where the Temporal SDK serves its own metrics, merged
    # into the worker's page; default the worker's port + 1).
    metrics_port: int = 0
    metrics_ports: str = ""
    # Off: no /metrics anywhere, no per-RPC / per-request instrumentation (what bench.lifecycle
    # --telemetry compares against).
    metrics_enabled: bool = True

    def addr(self, service: str) -> str:
        value: str = getattr(self, f"{service}_addr")
        return value or f"127.0.0.1:{DEFAULT_GRPC_PORTS[service]}"

    def port_of(self, service: str) -> int:
        return int(self.addr(service).rsplit(":", 1)[1])

    def db_url(self, service: str) -> str:
        value: str = getattr(self, f"{service}_db_url")
        return value or f"sqlite:///{(self.data_dir / f'{service}.db').resolve()}"

    def metrics_ports_map(self) -> dict[str, int]:
        ports: dict[str, int] = {}
        for item in self.metrics_ports.split(","):
            name, _, port = item.partition("=")
            if name.strip() and port.strip().isdigit():
                ports[name.strip()] = int(port)
        return ports

    def metrics_port_of(self, component: str) -> int:
        """The /metrics port of ``component`` (edge, registry, …, worker, delivery-worker)."""
        return self.metrics_ports_map().get(component, self.metrics_port)

    def public_base_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")
