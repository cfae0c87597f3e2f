"""Named credential sets. The inventory names a set; only the config holds secrets."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator

from config.base import SecretsFromFiles


class SnmpAuthProtocol(enum.StrEnum):
    MD5 = "MD5"
    SHA = "SHA"
    SHA224 = "SHA224"
    SHA256 = "SHA256"
    SHA384 = "SHA384"
    SHA512 = "SHA512"


class SnmpPrivProtocol(enum.StrEnum):
    DES = "DES"
    AES = "AES"  # AES-128
    AES192 = "AES192"
    AES256 = "AES256"


class SnmpSecurityLevel(enum.StrEnum):
    NO_AUTH_NO_PRIV = "noAuthNoPriv"
    AUTH_NO_PRIV = "authNoPriv"
    AUTH_PRIV = "authPriv"


class SnmpV2cCredential(SecretsFromFiles):
    name: str
    type: Literal["snmp_v2c"]
    community: SecretStr


class SnmpV3Credential(SecretsFromFiles):
    name: str
    type: Literal["snmp_v3"]
    user: str
    auth_protocol: SnmpAuthProtocol | None = None
    auth_key: SecretStr | None = None
    priv_protocol: SnmpPrivProtocol | None = None
    priv_key: SecretStr | None = None
    context: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> SnmpV3Credential:
        if (self.auth_protocol is None) != (self.auth_key is None):
            raise ValueError("auth_protocol and auth_key go together")
        if (self.priv_protocol is None) != (self.priv_key is None):
            raise ValueError("priv_protocol and priv_key go together")
        if self.priv_protocol is not None and self.auth_protocol is None:
            raise ValueError("privacy without authentication is not allowed by SNMPv3 USM")
        for key in (self.auth_key, self.priv_key):
            if key is not None and len(key.get_secret_value()) < 8:
                raise ValueError("SNMPv3 keys must be at least 8 characters (RFC 3414)")
        return self

    @property
    def security_level(self) -> SnmpSecurityLevel:
        if self.priv_protocol is not None:
            return SnmpSecurityLevel.AUTH_PRIV
        if self.auth_protocol is not None:
            return SnmpSecurityLevel.AUTH_NO_PRIV
        return SnmpSecurityLevel.NO_AUTH_NO_PRIV


class SshCredential(SecretsFromFiles):
    name: str
    type: Literal["ssh"]
    username: str
    password: SecretStr | None = None
    key_file: str | None = None
    passphrase: SecretStr | None = None
    enable_secret: SecretStr | None = None

    @model_validator(mode="after")
    def _has_auth(self) -> SshCredential:
        if self.password is None and self.key_file is None:
            raise ValueError("give a password or a key_file")
        return self


class UserPasswordCredential(SecretsFromFiles):
    """MQTT brokers, HTTP basic auth."""

    name: str
    type: Literal["user_password"]
    username: str
    password: SecretStr


class TokenCredential(SecretsFromFiles):
    name: str
    type: Literal["token"]
    token: SecretStr


Credential = Annotated[
    SnmpV2cCredential | SnmpV3Credential | SshCredential | UserPasswordCredential
    | TokenCredential,
    Field(discriminator="type"),
]
