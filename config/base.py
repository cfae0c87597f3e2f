"""Base class for every config model: unknown keys are errors, values are immutable."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

log = logging.getLogger("campusmon.config")

# Some secret stores mount files 0444 (container secrets) or share them with a service group;
# there, setting this to 1 turns the refusal into a warning. The default refuses: a community or
# key readable by every local user is a leak already.
ALLOW_READABLE_SECRETS_ENV = "CAMPUSMON_ALLOW_READABLE_SECRET_FILES"


def check_secret_file(path: Path, key: str) -> None:
    """Refuse a secret file that group or others may read (or warn, with the opt-out)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # reading it reports the problem
    if not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return
    what = (f"{key}: {path} is readable by group or others (mode {stat.S_IMODE(mode):04o}); "
            f"chmod 600 it")
    if os.environ.get(ALLOW_READABLE_SECRETS_ENV) == "1":
        log.warning("%s (accepted: %s=1)", what, ALLOW_READABLE_SECRETS_ENV)
        return
    raise ValueError(f"{what}, or set {ALLOW_READABLE_SECRETS_ENV}=1 where the secret store "
                     "cannot (container secrets mounted 0444)")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SecretsFromFiles(StrictModel):
    """Lets any SecretStr field `x` be given as `x_file: /path` (contents, stripped)."""

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, info in cls.model_fields.items():
            file_key = f"{name}_file"
            if file_key not in out:
                continue
            if info.annotation not in (SecretStr, SecretStr | None):
                continue
            if name in out:
                raise ValueError(f"give either '{name}' or '{file_key}', not both")
            path = Path(str(out.pop(file_key)))
            check_secret_file(path, file_key)
            try:
                out[name] = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"{file_key}: cannot read {path}: {exc.strerror}") from None
        return out
