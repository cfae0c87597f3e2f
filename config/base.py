"""Base class for every config model: unknown keys are errors, values are immutable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator


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
            try:
                out[name] = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"{file_key}: cannot read {path}: {exc.strerror}") from None
        return out
