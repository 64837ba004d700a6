"""The English catalogue (locale/en/LC_MESSAGES/django.po) is complete.

The UI's msgids are Chinese; an entry with an empty msgstr, or one marked fuzzy (which
is not compiled), shows Chinese to an English user. These tests read the .po with polib
and the sources with `ast` and a regex, so they need no gettext tools. They catch:

- an entry that is untranslated or fuzzy, or whose msgstr lost or changed a placeholder;
- a string in a `_()`/`gettext()` call or a `{% translate "..." %}` tag that is not in the
  catalogue at all (run `manage.py makemessages -l en ... --no-obsolete` and translate it).
  `{% blocktranslate %}` blocks are covered only through the first check (after makemessages).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
# As in the makemessages command: --ignore=.venv --ignore=var --ignore=benchmarks
SKIP_DIRS = {".venv", "var", "benchmarks", "node_modules", "locale", "static"}
TRANSLATION_FUNCS = {"gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|%%|\{\w*\}")
TEMPLATE_TAG = re.compile(
    r"""\{%\s*(?:translate|trans)\s+(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')(.*?)%\}"""
)


@pytest.fixture(scope="module")
def catalogue() -> polib.POFile:
    return polib.pofile(str(PO))


def _sources(suffix: str):
    for path in ROOT.rglob(f"*{suffix}"):
        parts = path.relative_to(ROOT).parts
        if any(part in SKIP_DIRS or part.startswith(".") for part in parts[:-1]):
            continue
        yield path


def _python_msgids(path: Path):
    """Literal first arguments of calls to names imported from django.utils.translation."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError:  # pragma: no cover - not project code
        return
    names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for alias in node.names
        if alias.name in TRANSLATION_FUNCS
    }
    if not names:
        return
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in names
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}"


def _template_msgids(path: Path):
    text = path.read_text(encoding="utf-8")
    for match in TEMPLATE_TAG.finditer(text):
        if "context" in match.group(3):
            continue  # a msgctxt entry; none in the project today
        msgid = match.group(1) if match.group(1) is not None else match.group(2)
        line = text.count("\n", 0, match.start()) + 1
        msgid = msgid.replace('\\"', '"').replace("\\'", "'")
        # Django looks a template literal up with each % doubled, and makemessages stores it so.
        yield msgid.replace("%", "%%"), f"{path.relative_to(ROOT)}:{line}"


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    fuzzy = [e.msgid for e in catalogue if "fuzzy" in e.flags and not e.obsolete]
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries (not compiled), e.g. {fuzzy[:5]}"
    assert not untranslated, f"{len(untranslated)} untranslated entries, e.g. {untranslated[:5]}"


def test_translations_keep_their_placeholders(catalogue):
    wrong = []
    for entry in catalogue.translated_entries():
        if not entry.msgid_plural:
            expected = sorted(PLACEHOLDER.findall(entry.msgid))
            if sorted(PLACEHOLDER.findall(entry.msgstr)) != expected:
                wrong.append((entry.msgid, entry.msgstr))
            continue
        # Plural forms: the plural keeps msgid_plural's placeholders; the singular may drop
        # the count ("1 message") but may use nothing that neither msgid has.
        allowed = set(PLACEHOLDER.findall(entry.msgid + entry.msgid_plural))
        expected_plural = sorted(PLACEHOLDER.findall(entry.msgid_plural))
        for index, msgstr in entry.msgstr_plural.items():
            found = PLACEHOLDER.findall(msgstr)
            if not set(found) <= allowed or (int(index) > 0 and sorted(found) != expected_plural):
                wrong.append((entry.msgid_plural, msgstr))
    assert not wrong, wrong[:10]


def test_strings_used_in_the_code_are_in_the_catalogue(catalogue):
    known = {e.msgid for e in catalogue if not e.obsolete}
    found = 0
    missing = []
    for path in _sources(".py"):
        for msgid, where in _python_msgids(path):
            found += 1
            if msgid and msgid not in known:
                missing.append((where, msgid))
    for path in _sources(".html"):
        for msgid, where in _template_msgids(path):
            found += 1
            if msgid and msgid not in known:
                missing.append((where, msgid))
    assert found > 500, "the scan found too few strings: is it still looking in the right places?"
    assert not missing, (
        f"{len(missing)} strings missing from django.po (run makemessages): {missing[:10]}"
    )
