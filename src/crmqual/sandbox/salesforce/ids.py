"""Salesforce record ids: 15 case-sensitive characters (a 3-character key prefix naming the
object, then the record's number in base 62) plus a 3-character suffix that makes the id
unique case-insensitively, 18 in all.

The sandbox keeps records under integer ids in the shared store; `sf_id(prefix, n)` and
`parse_id` convert both ways. The base-62 alphabet is in ASCII order and the number is
zero-padded, so ordering ids as strings orders them by number (as `ORDER BY Id` must).
"""

from __future__ import annotations

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BODY = 12

#: sObject -> key prefix (Salesforce's own prefixes for these objects)
PREFIXES = {
    "Account": "001",
    "User": "005",
    "Profile": "00e",
    "Task": "00T",
    "Organization": "00D",
    "CustomField": "00N",
    "Layout": "00h",
    "PermissionSet": "0PS",
    "FieldPermissions": "01k",
    "PermissionSetAssignment": "0Pa",
    "QueryLocator": "01g",
    "Job": "750",
}
OBJECTS = {prefix: name for name, prefix in PREFIXES.items()}


def checksum(id15: str) -> str:
    """The 3-character suffix: for each 5-character chunk, a bit per upper-case letter."""
    out = []
    for start in range(0, 15, 5):
        bits = 0
        for i, char in enumerate(id15[start : start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX[bits])
    return "".join(out)


def sf_id(prefix: str, number: int) -> str:
    """The 18-character id of record `number` of the object with key prefix `prefix`."""
    digits = []
    n = number
    while n:
        n, r = divmod(n, 62)
        digits.append(_ALPHABET[r])
    body = "".join(reversed(digits)).rjust(_BODY, "0")
    if len(body) > _BODY:
        raise ValueError(f"record number {number} too large for an id")
    id15 = prefix + body
    return id15 + checksum(id15)


def parse_id(text: str) -> tuple[str, int] | None:
    """(key prefix, record number) of a 15- or 18-character id, or None if it is not one.
    An 18-character id is matched case-insensitively through its suffix, as Salesforce does."""
    if len(text) == 18:
        suffix = text[15:].upper()
        id15 = _restore_case(text[:15], suffix)
        if id15 is None:
            return None
    elif len(text) == 15:
        id15 = text
    else:
        return None
    number = 0
    for char in id15[3:]:
        if char not in _INDEX:
            return None
        number = number * 62 + _INDEX[char]
    return id15[:3], number


def _restore_case(text: str, suffix: str) -> str | None:
    if any(c not in _SUFFIX for c in suffix):
        return None
    chars = list(text)
    for chunk, code in enumerate(suffix):
        bits = _SUFFIX.index(code)
        for i in range(5):
            pos = chunk * 5 + i
            chars[pos] = chars[pos].upper() if bits >> i & 1 else chars[pos].lower()
    return "".join(chars)


def number_of(text: str, sobject: str) -> int | None:
    """The record number of an id of `sobject`, or None (not an id, or another object's)."""
    parsed = parse_id(text)
    if parsed is None or parsed[0] != PREFIXES[sobject]:
        return None
    return parsed[1]
