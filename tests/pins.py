"""Pinned parameters outside a family's domain: each family's test file pins a few
nonsensical values and checks that they are refused with a message naming the parameter
(a bank's `params:` go through the same make_problem)."""

from __future__ import annotations

from typing import Any

import pytest

from generator.errors import GenError, InfeasibleError
from generator.variants import make_problem


def rejected(family: str, pin: dict[str, Any], error: type[GenError] = InfeasibleError) -> str:
    """The message of the `error` that pinning `pin` raises: InfeasibleError for a value
    outside the domain, OptionError for one of the wrong type."""
    with pytest.raises(error) as info:
        make_problem(family, 0, pinned=pin)
    return info.value.message
