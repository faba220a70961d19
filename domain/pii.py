"""Personal data in free text (诉求内容, replies, reasons): found, masked, handed to the vault.

Detection rules (a span is masked only when it matches one of these; the first rule that
claims a span wins, in this order):

1. **E-mail**: ``local@domain.tld`` in ASCII (local part of letters, digits and ``._%+-``,
   a dotted domain, a top-level domain of two letters or more). Mask: the local part's
   first character and the rest starred, ``z********@example.com``.
2. **身份证 (18 characters)**: 17 digits and a check character (digit or X), not inside a
   longer run of letters or digits, starting with a province code (11–15, 21–23, 31–37,
   41–46, 50–54, 61–65, 71, 81–83, 91) and whose 7th–14th characters are a real date of
   birth (1900 until today). The GB 11643-1999 check character (ISO 7064 MOD 11-2) is
   deliberately *not* required: a number an agent mistyped by one digit is still
   the caller's number (the brief's own example 110101199003071234 fails it), and province
   plus date already tell an ID from the other 18-digit numbers of hotline text.
   Mask ``1101**********1234``.
3. **身份证 (old 15-digit form)**: 15 digits with a province code whose 7th–12th digits are
   a real date 19YYMMDD (the old form has no check character). Same mask.
4. **Bank card**: 13–19 digits, written together or in groups of four separated by one
   space or hyphen, not inside a longer run of letters or digits (``CP2025…`` is a
   reference), passing the Luhn check. Mask
   ``****1234``. (Any 13–19-digit number passes Luhn one time in ten: an account or
   meter number may be masked too, which errs on the side of the citizen.)
5. **Phone**: what ``phonenumbers.PhoneNumberMatcher`` finds for region CN at leniency
   VALID and is a mobile or fixed-line number (the types intake accepts for callers):
   ``13812345678``, ``138 1234 5678``, ``+86 138…``, ``0574-87000001``, ``(0574)87000001``.
   A landline needs its area code: an 8-digit local number cannot be told from any other
   8-digit number. Mask as for callers, ``138****5678`` / ``0574****0001``.

Never masked: the numbers in ``public`` — the duty phones of the units in
config/departments.toml, which are published 政务 contact numbers, not anyone's personal
data, and which agents quote to callers ("请拨打 0574-87000001") — service numbers such as
12345 / 110 / 95588 (not valid subscriber numbers), ticket numbers (12 digits: too long for
a phone, too short for a card, no date at an ID's place), dates (2025年10月1日, 2025-10-01,
20251001) and amounts (1500元). Masks hold ``*``, so masking masked text finds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from domain.phone import mask_phone

EMAIL = "email"
ID_CARD = "id_card"
BANK_CARD = "bank_card"
PHONE = "phone"

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}(?![A-Za-z0-9-])")
_ID18 = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")
# Not glued to ASCII letters either: "CP20250930658965" is a campaign's reference, not a card.
_CARD = re.compile(r"(?<![0-9A-Za-z])(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?)"
                   r"(?![0-9A-Za-z])")
_PROVINCES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43,
                        44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91})


# The shortest number libphonenumber's CN metadata knows (a local fixed line): text with
# fewer digits in all holds no phone, and skips the matcher (~0.25 ms a text).
_MIN_PHONE_DIGITS = 7


@dataclass(frozen=True)
class Found:
    """One piece of personal data: its kind, the text as written, where, and its mask."""

    kind: str
    value: str
    start: int
    end: int
    mask: str


@dataclass(frozen=True)
class Redacted:
    """The text with every found value replaced by its mask, and what was found."""

    text: str
    found: tuple[Found, ...]

    @property
    def values(self) -> tuple[str, ...]:
        """The values as written, in order of appearance (what the vault seals)."""
        return tuple(f.value for f in self.found)


def _mask_local(local: str) -> str:
    """The first character, the rest starred: a mask is never longer than what it hides,
    so masked content stays within the length the command accepted."""
    return local[0] + "*" * (len(local) - 1) if len(local) > 1 else "*"


def redact(text: str, public: Iterable[str] = ()) -> Redacted:
    """Find the personal data in `text` (rules in the module docstring) and mask it;
    `public`: normalised phone numbers that are published, never masked."""
    public_numbers = frozenset(public)
    found: list[Found] = []

    def free(start: int, end: int) -> bool:
        return all(end <= f.start or start >= f.end for f in found)

    for match in _EMAIL.finditer(text):
        local, _, domain = match.group().partition("@")
        found.append(Found(EMAIL, match.group(), match.start(), match.end(),
                           f"{_mask_local(local)}@{domain}"))
    for match in _ID18.finditer(text):
        value = match.group()
        if free(match.start(), match.end()) and _id_shaped(value, value[6:14]):
            found.append(Found(ID_CARD, value, match.start(), match.end(), _mask_id(value)))
    for match in _ID15.finditer(text):
        value = match.group()
        if free(match.start(), match.end()) and _id_shaped(value, "19" + value[6:12]):
            found.append(Found(ID_CARD, value, match.start(), match.end(), _mask_id(value)))
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and free(match.start(), match.end()) and luhn(digits):
            found.append(Found(BANK_CARD, match.group(), match.start(), match.end(),
                               "****" + digits[-4:]))
    if sum(ch.isdigit() for ch in text) >= _MIN_PHONE_DIGITS:
        found.extend(_phones(text, public_numbers, free))
    found.sort(key=lambda f: f.start)
    pieces, last = [], 0
    for item in found:
        pieces += [text[last:item.start], item.mask]
        last = item.end
    pieces.append(text[last:])
    return Redacted("".join(pieces), tuple(found))


def _phones(text: str, public: frozenset[str], free: Callable[[int, int], bool]) -> list[Found]:
    import phonenumbers  # ~40 ms of start-up, paid by the first text with a digit

    kinds = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
             phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
    phones = []
    for match in phonenumbers.PhoneNumberMatcher(text, "CN",
                                                 leniency=phonenumbers.Leniency.VALID):
        number = match.number
        if number.country_code != 86 or phonenumbers.number_type(number) not in kinds:
            continue
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        digits = "".join(ch for ch in national if ch.isdigit())
        if digits in public or not free(match.start, match.end):
            continue
        phones.append(Found(PHONE, match.raw_string, match.start, match.end,
                            mask_phone(digits)))
    return phones


def _id_shaped(value: str, birth: str) -> bool:
    return int(value[:2]) in _PROVINCES and _birth_date(birth)


def luhn(digits: str) -> bool:
    """The Luhn (mod 10) check every bank card number passes."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _birth_date(yyyymmdd: str) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def _mask_id(value: str) -> str:
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def restore(text: str, values: Iterable[str]) -> str:
    """The masked `text` with the sealed `values` back in place (a reveal, domain/access):
    each value's mask is found again, left to right, in the order redact() sealed them."""
    pieces, cursor = [], 0
    for value in values:
        mask = redact(value).text
        at = text.find(mask, cursor) if mask != value else -1
        if at < 0:
            continue  # the text was masked by another rule or edited: leave the mask
        pieces += [text[cursor:at], value]
        cursor = at + len(mask)
    pieces.append(text[cursor:])
    return "".join(pieces)
