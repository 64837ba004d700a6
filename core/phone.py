"""Mainland China mobile numbers: validation, normalisation and masking (PIPL)."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalize_mobile(raw: str) -> str:
    """The 11-digit national form of a mainland mobile number, or a ValidationError.

    Accepts spaces, dashes and the +86 / 0086 / 86 prefixes; refuses landlines, numbers
    outside the allocated mobile ranges and anything that is not a phone number.
    """
    text = "".join(ch for ch in str(raw or "") if ch not in " -()\u3000")
    if not text:
        raise ValidationError(_("手机号码不能为空"), code="mobile_required")
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("86") and len(text) == 13:
        text = "+" + text
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("“%(value)s”不是手机号码") % {"value": raw}, code="mobile_invalid"
        ) from exc
    if parsed.country_code != 86:
        raise ValidationError(
            _("“%(value)s”不是中国大陆手机号码") % {"value": raw}, code="mobile_not_mainland"
        )
    number_type = phonenumbers.number_type(parsed)
    if not phonenumbers.is_valid_number(parsed) or number_type not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(
            _("“%(value)s”不是有效的中国大陆手机号码") % {"value": raw}, code="mobile_invalid"
        )
    national = str(parsed.national_number)
    if len(national) != 11 or not national.startswith("1"):
        raise ValidationError(
            _("“%(value)s”不是有效的中国大陆手机号码") % {"value": raw}, code="mobile_invalid"
        )
    return national


def mask_mobile(msisdn: str) -> str:
    """A number with its middle four digits hidden (138****8000), for roles that need no more."""
    digits = str(msisdn or "")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"
