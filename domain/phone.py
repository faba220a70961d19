"""Caller phone numbers: validated as Chinese mobile or landline numbers, masked for display."""

from __future__ import annotations

import re
from functools import lru_cache

from domain.errors import InvalidInput, shown


@lru_cache(maxsize=1)
def _mobile() -> re.Pattern[str]:
    """libphonenumber's own pattern of valid CN mobile numbers (its metadata)."""
    import phonenumbers  # ~40 ms of start-up that only intake needs

    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    mobile = metadata.mobile if metadata else None
    if mobile is None or not mobile.national_number_pattern:
        return re.compile(r"(?!)")  # no metadata: everything takes the full parse
    return re.compile(mobile.national_number_pattern)


@lru_cache(maxsize=4096)  # parsing is ~0.3 ms; repeat callers are common
def normalize_phone(raw: str) -> str:
    """Return the national form without separators (13800138000, 057488888888) or raise."""
    text = (raw or "").strip()
    if len(text) == 11 and text.isascii() and text.isdigit() and _mobile().fullmatch(text):
        # Eleven digits the metadata calls a mobile: what the full parse below returns
        # (tests/test_phone.py checks every 5-digit prefix), ~100x cheaper.
        return text
    return parsed(text)


def parsed(text: str) -> str:
    """normalize_phone by libphonenumber's full parse and checks."""
    import phonenumbers

    valid_types = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
                   phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise _invalid(text) from None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise _invalid(text)
    if number.extension:
        # The national form has no room for an extension: its digits would be glued
        # onto the number (13800138000 ext. 12 -> 1380013800012).
        raise _invalid(text)
    if phonenumbers.number_type(number) not in valid_types:
        raise _invalid(text)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


def _invalid(text: str) -> InvalidInput:
    return InvalidInput(
        "caller_phone",
        f"电话号码“{shown(text)}”无效：应为中国大陆手机号或带区号的固定电话（如 0574-88888888）",
        f"invalid phone number {shown(text)!r}: expected a mainland China mobile or landline "
        "number with area code (e.g. 0574-88888888)",
    )


def mask_phone(phone: str) -> str:
    """138****8000 for mobiles; 0574****8888 for landlines: keep head and last four digits."""
    if len(phone) == 11 and phone.startswith("1"):
        return f"{phone[:3]}****{phone[-4:]}"
    if len(phone) > 8:
        return f"{phone[:len(phone) - 8]}****{phone[-4:]}"
    return "****" + phone[-4:]


def mask_name(name: str) -> str:
    """张** keeps the surname only."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""
