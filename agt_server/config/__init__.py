"""The site configuration: frozen models, the TOML loader, the embedded demo, calling-list records and
password hashing.

Everything in ``__all__`` is the public API of ``agt_server.config``.
"""

from ._contacts import load_all, load_records
from ._demo import DEMO_LOAD_AGENT_COUNT, DEMO_LOAD_GROUP, DEMO_LOAD_PASSWORD, demo_config
from ._load import ConfigError, load_config
from ._models import (
    AgentConfig,
    AssignmentConfig,
    CallbackOwner,
    CallingListConfig,
    CompletionKey,
    ContactRecord,
    DialingConfig,
    FieldSpec,
    FieldType,
    JobConfig,
    ListenerConfig,
    LogonThrottleConfig,
    ProtocolOptions,
    SessionLimits,
    SimulationConfig,
    SiteConfig,
    TlsConfig,
    TokenConfig,
    TokenRole,
)
from ._passwords import PasswordVerifier, check_hash_format, hash_password, verify_password

__all__ = [
    "DEMO_LOAD_AGENT_COUNT",
    "DEMO_LOAD_GROUP",
    "DEMO_LOAD_PASSWORD",
    "AgentConfig",
    "AssignmentConfig",
    "CallbackOwner",
    "CallingListConfig",
    "CompletionKey",
    "ConfigError",
    "ContactRecord",
    "DialingConfig",
    "FieldSpec",
    "FieldType",
    "JobConfig",
    "ListenerConfig",
    "LogonThrottleConfig",
    "PasswordVerifier",
    "ProtocolOptions",
    "SessionLimits",
    "SimulationConfig",
    "SiteConfig",
    "TlsConfig",
    "TokenConfig",
    "TokenRole",
    "check_hash_format",
    "demo_config",
    "hash_password",
    "load_all",
    "load_config",
    "load_records",
    "verify_password",
]
