"""China's unified social credit code (统一社会信用代码, GB 32100-2015), for seeded companies.

A code is 18 characters: registration authority (1), entity type (1), administrative division
(6 digits), organisation code (9, GB 11714 with its own check character) and a check character
over the first 17 (GB 32100). Characters come from a 31-letter alphabet without I, O, S, V, Z.
"""

from __future__ import annotations

import random

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def org_code(digits8: str) -> str:
    """A GB 11714 organisation code: eight digits and their check character (0-9 or X)."""
    total = sum(int(c) * w for c, w in zip(digits8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return digits8 + ("X" if check == 10 else "0" if check == 11 else str(check))


def uscc(rng: random.Random, division: str) -> str:
    """A valid code for an enterprise (`91`) registered in `division` (six digits)."""
    body = "91" + division + org_code(f"{rng.randrange(100_000_000):08d}")
    return body + check_char(body)
