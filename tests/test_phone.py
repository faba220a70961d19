"""Caller phone numbers: Chinese mobile and landline numbers in, national digits out."""

from __future__ import annotations

import pytest

from domain.errors import DomainError, InvalidInput
from domain.phone import mask_name, mask_phone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        # mobiles
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("  13800138000  ", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+86-138-0013-8000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("19912345678", "19912345678"),
        # landlines with area code
        ("0574-88888888", "057488888888"),
        ("0574 8888 8888", "057488888888"),
        ("(0574)88888888", "057488888888"),
        ("057488888888", "057488888888"),
        ("010-12345678", "01012345678"),
        ("(010) 12345678", "01012345678"),
        ("021-62345678", "02162345678"),
        # landlines in +86 form: the trunk 0 comes back
        ("+86 574 8888 8888", "057488888888"),
        ("+86-10-12345678", "01012345678"),
        ("+86 10 1234 5678", "01012345678"),
        ("0086-10-12345678", "01012345678"),
        # full-width digits typed on a Chinese IME
        ("０５７４-８８８８８８８８", "057488888888"),
    ],
)
def test_valid_numbers_are_accepted_and_normalised(raw: str, normalised: str) -> None:
    assert normalize_phone(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        # empty
        "",
        "   ",
        # short: service codes, the hotline itself, a bare local number without area code
        "110",
        "12345",
        "95588",
        "88888888",
        "010-1234",
        "+86",
        # foreign
        "+1 650 253 0000",
        "+44 20 7946 0958",
        "+852 2123 4567",  # Hong Kong is not mainland China
        "+81 3-1234-5678",
        "001 650 253 0000",
        # malformed
        "abc",
        "phone",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "23800138000",  # no such mobile prefix
        "12345678901",
        "1380013800a",
        "13800138000/13900139000",
        "13800138000, 13900139000",
        "0574-888888888888",
        "400-123-4567",  # a toll-free service number is not a caller's phone
        "13800138000 ext. 12",  # an extension cannot be kept in the national form
        "0574-88888888 ext 801",
        "13800138000;ext=5",
    ],
)
def test_invalid_numbers_are_rejected_naming_caller_phone(raw: str) -> None:
    with pytest.raises(InvalidInput) as info:
        normalize_phone(raw)
    err = info.value
    assert isinstance(err, DomainError)
    assert err.field == "caller_phone"
    assert "电话号码" in err.zh and "phone number" in err.en
    assert raw.strip() in err.zh and repr(raw.strip()) in err.en


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800138000", "138****8000"),
        ("19912345678", "199****5678"),
        ("057488888888", "0574****8888"),
        ("01012345678", "010****5678"),
        ("02162345678", "021****5678"),
    ],
)
def test_masking_keeps_head_and_last_four(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
    assert mask_phone(normalize_phone(phone)) == masked


def test_masking_never_shows_the_middle_digits() -> None:
    for raw in ("13800138000", "0574-88888888", "+86 10 1234 5678"):
        phone = normalize_phone(raw)
        masked = mask_phone(phone)
        assert "****" in masked
        assert masked != phone
        hidden = phone[len(masked.split("****")[0]):-4]
        assert len(hidden) >= 4
        assert masked.replace("****", hidden) == phone


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("张三丰", "张**"), ("欧阳娜娜", "欧***"), ("李", "李*"), ("", "")],
)
def test_name_masking_keeps_the_surname_only(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_the_mobile_fast_path_agrees_with_the_full_parse() -> None:
    """normalize_phone accepts 11 digits the metadata's mobile pattern matches without
    parsing: for every 5-digit prefix (the pattern reads at most five), the full parse
    gives the same answer."""
    from domain.phone import _mobile, parsed

    accepted = 0
    for prefix in range(10000, 20000):
        for suffix in ("000000", "918273"):
            number = f"{prefix}{suffix}"
            if _mobile().fullmatch(number):
                assert parsed(number) == number
                accepted += 1
    assert accepted > 5000  # the pattern does cover the mobile ranges
