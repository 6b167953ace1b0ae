"""The site configuration: frozen models, the TOML loader, the embedded demo and password hashing.

Everything in ``__all__`` is the public API of ``agt_server.config``.
"""

from ._demo import demo_config
from ._load import ConfigError, load_config
from ._models import (
    AgentConfig,
    AssignmentConfig,
    CallingListConfig,
    CompletionKey,
    FieldSpec,
    FieldType,
    JobConfig,
    ListenerConfig,
    LogonThrottleConfig,
    ProtocolOptions,
    SessionLimits,
    SiteConfig,
    TlsConfig,
)
from ._passwords import PasswordVerifier, check_hash_format, hash_password, verify_password

__all__ = [
    "AgentConfig",
    "AssignmentConfig",
    "CallingListConfig",
    "CompletionKey",
    "ConfigError",
    "FieldSpec",
    "FieldType",
    "JobConfig",
    "ListenerConfig",
    "LogonThrottleConfig",
    "PasswordVerifier",
    "ProtocolOptions",
    "SessionLimits",
    "SiteConfig",
    "TlsConfig",
    "check_hash_format",
    "demo_config",
    "hash_password",
    "load_config",
    "verify_password",
]
