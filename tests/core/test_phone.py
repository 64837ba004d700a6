import pytest
from django.core.exceptions import ValidationError

from core.phone import mask_mobile, normalize_mobile


@pytest.mark.parametrize(
    "raw",
    ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "8613800138000", " 138 0013 8000 "],
)
def test_mainland_mobile_numbers_are_normalised_to_eleven_digits(raw):
    assert normalize_mobile(raw) == "13800138000"


@pytest.mark.parametrize(
    "raw", ["", "12345", "0371-65551234", "+1 212 555 0100", "23800138000", "abc"]
)
def test_bad_numbers_are_refused_with_a_message(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalize_mobile(raw)
    assert excinfo.value.messages[0]


def test_masking_hides_the_middle_four_digits():
    assert mask_mobile("13800138000") == "138****8000"
