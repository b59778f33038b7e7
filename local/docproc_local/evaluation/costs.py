"""The price table (``src/docproc/config/prices.yaml``, when present) and the cost of one document's tokens.

Format: ``{version, currency?: USD, models: {model_id: {input_per_million_usd, output_per_million_usd}}}``.
A record's model id is looked up as written, then without an ARN prefix (``arn:...:foundation-model/``) and
without a cross-region inference-profile prefix (``us.``, ``eu.``, ``apac.``, ``global.``, ...).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import docproc

PRICES_PATH = Path(docproc.__file__).with_name("config") / "prices.yaml"
_INFERENCE_PROFILE_RE = re.compile(r"^(?:us|eu|apac|us-gov|global|jp|au|ca)\.")


class ModelPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_per_million_usd: float = Field(ge=0)
    output_per_million_usd: float = Field(ge=0)


class Prices(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    currency: Literal["USD"] = "USD"  # the prices are *_usd; the key only documents it
    models: dict[str, ModelPrice]
    source: str = ""

    def price(self, model_id: str) -> ModelPrice | None:
        candidates = [model_id, model_id.rsplit("/", 1)[-1]]
        candidates.append(_INFERENCE_PROFILE_RE.sub("", candidates[-1]))
        for candidate in candidates:
            if candidate in self.models:
                return self.models[candidate]
        return None

    def cost(self, model_id: str | None, input_tokens: int, output_tokens: int) -> float | None:
        """USD for the tokens; 0 without tokens; None when the model is not in the table."""
        if not input_tokens and not output_tokens:
            return 0.0
        price = self.price(model_id) if model_id else None
        if price is None:
            return None
        return (input_tokens * price.input_per_million_usd + output_tokens * price.output_per_million_usd) / 1e6


def load_prices(path: Path = PRICES_PATH) -> Prices | None:
    """The price table, or None when the file does not exist; a bad file raises ValueError naming the path."""
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    try:
        prices = Prices.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise ValueError(f"{path}: {where}: {first['msg']}") from None
    return prices.model_copy(update={"source": str(path)})
