"""Reading the CSV/XLSX files enterprise users upload (recipient lists, bulk sends)."""

from pathlib import Path

import tablib
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def decode_csv(raw: bytes) -> str:
    """The text of an uploaded CSV: UTF-8 (with or without BOM) or GBK, as Excel saves it."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("无法识别文件编码，请保存为 UTF-8 或 GBK 编码的 CSV"))


def read_dataset(path: Path, *, headers: bool = True) -> tablib.Dataset:
    """An uploaded file as a tablib Dataset; ValidationError when it cannot be read."""
    try:
        if path.suffix == ".xlsx":
            return tablib.Dataset().load(path.read_bytes(), format="xlsx", headers=headers)
        return tablib.Dataset().load(decode_csv(path.read_bytes()), format="csv", headers=headers)
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError(_("无法读取文件：%(error)s") % {"error": exc}) from exc
