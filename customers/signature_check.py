"""How plausibly a signature text matches the enterprise's registered name or brands.

第6条第4款 forbids false signatures: the text in 【】 must be the enterprise's name, a
recognisable part of it, or a brand it holds. This module only measures and explains;
the manager decides (`customers.services.signature_approve`).
"""

import re
from dataclasses import dataclass

SIGNATURE_RE = re.compile(r"^【([^【】\s]{2,20})】$")

# Words that say what kind of organisation it is, not who it is.
_LEGAL_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "集团",
    "公司",
    "分公司",
    "研究院",
    "委员会",
)
_CITY_PREFIX_RE = re.compile(r"^[\u4e00-\u9fff]{2,3}市")


def _province_prefixes() -> list[str]:
    from .regions import Province

    prefixes = []
    for label in Province.labels:
        text = str(label)
        prefixes.append(text)
        for ending in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
            if text.endswith(ending):
                prefixes.append(text[: -len(ending)])
                break
    return sorted(prefixes, key=len, reverse=True)


@dataclass(frozen=True)
class SignatureMatch:
    """The outcome of comparing a signature with the registered names."""

    plausible: bool
    evidence: str


def signature_core(text: str) -> str | None:
    """The text between 【 and 】, or None when the signature is not of that form."""
    found = SIGNATURE_RE.match(text.strip())
    return found.group(1) if found else None


def _longest_common_run(a: str, b: str) -> str:
    best = ""
    for start in range(len(a)):
        for end in range(start + len(best) + 1, len(a) + 1):
            if a[start:end] in b:
                best = a[start:end]
            else:
                break
    return best


def _distinctive(name: str) -> str:
    """The name without region prefix and legal form (郑州宇通客车股份有限公司 → 宇通客车)."""
    core = name
    for prefix in _province_prefixes():
        if core.startswith(prefix) and len(core) > len(prefix) + 1:
            core = core[len(prefix) :]
            break
    city = _CITY_PREFIX_RE.match(core)
    if city and len(core) > city.end() + 1:
        core = core[city.end() :]
    for suffix in _LEGAL_FORMS:
        if core.endswith(suffix) and len(core) > len(suffix) + 1:
            core = core[: -len(suffix)]
            break
    return core


def signature_match(text: str, *, name: str, brands: list[str]) -> SignatureMatch:
    """Whether `text` plausibly names the enterprise, with the evidence in words.

    Plausible when the signature is part of the registered name or a brand, or when it
    shares a run of at least two characters that covers at least half of it with the
    distinctive part of the name (region and legal form removed).
    """
    core = signature_core(text)
    if core is None:
        return SignatureMatch(False, "签名格式不符：应为【】内2至20个字符")
    for brand in brands:
        if brand and core == brand:
            return SignatureMatch(True, f"签名与登记品牌「{brand}」一致")
        if brand and core in brand:
            return SignatureMatch(True, f"签名为登记品牌「{brand}」的一部分")
    if core in name:
        return SignatureMatch(True, f"签名为企业名称「{name}」的连续子串")
    distinctive = _distinctive(name)
    run = _longest_common_run(core, distinctive)
    if len(run) >= 2 and len(run) * 2 >= len(core):
        return SignatureMatch(
            True,
            f"签名与企业名称主体「{distinctive}」有共同部分「{run}」（{len(run)}/{len(core)}字）",
        )
    if run:
        return SignatureMatch(
            False,
            f"签名与企业名称「{name}」仅有共同部分「{run}」，不足以认定相符，须提供商标或授权证明",
        )
    return SignatureMatch(
        False, f"签名与企业名称「{name}」及登记品牌均无共同部分，须提供商标或授权证明"
    )
