"""The sample alert rules in docs/observability.md name real metrics with real labels.

The rules are parsed out of the document and every metric they use is looked up in a
scrape of /metrics (HELP/TYPE lines are written even when a metric has no sample yet),
with the label names of its matchers and `by (...)` clauses, and the literal label values
where the metric has samples (e.g. a `state` that exists). A metric renamed in code and
not in the rules fails here instead of silently never alerting.
"""

import re
from pathlib import Path

import pytest
import yaml

from core.metrics import CATALOGUE
from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "observability.md"
METRIC = re.compile(r"\b((?:mas|django|process)_[a-z0-9_]+)\s*(\{[^}]*\})?")
MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')
BY = re.compile(r"\bby\s*\(([^)]*)\)")
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def _rules() -> list[dict]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Sample alert rules", 1)[1]
    block = section.split("```yaml", 1)[1].split("```", 1)[0]
    groups = yaml.safe_load(block)["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _families(text: str) -> set[str]:
    return set(re.findall(r"^# TYPE (\S+) ", text, re.M))


def _samples(text: str, name: str) -> list[dict]:
    found = []
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? ", line)
        if match:
            found.append(dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or "")))
    return found


def _family_of(name: str, families: set[str]) -> str | None:
    candidates = [name] + [name.removesuffix(s) for s in SUFFIXES if name.endswith(s)]
    return next((c for c in candidates if c in families), None)


def _catalogue_labels(name: str) -> set[str] | None:
    spec = CATALOGUE.get(name)
    return set(spec.labels) if spec else None


def test_the_document_has_rules_for_the_issue_metrics():
    exprs = " ".join(rule["expr"] for rule in _rules())
    for name in (
        "mas_smsgw_cmpp_links_up",
        "mas_smsgw_submit_result8_total",
        "mas_smsgw_window_in_use",
        "mas_smsgw_report_latency_seconds",
        "mas_smsgw_outbox_messages",
        "mas_assurance_tickets_breached",
        "mas_assurance_tickets_near_breach",
        "mas_billing_run_progress_ratio",
        "mas_webhook_deliveries_retrying",
    ):
        assert name in exprs


def test_every_metric_and_label_in_the_alert_rules_exists_on_metrics(client):
    client.force_login(UserFactory(username="ops", is_staff=True))
    client.get("/metrics")  # so that the request/response counters have samples
    text = client.get("/metrics").content.decode()
    families = _families(text)
    rules = _rules()
    assert len(rules) >= 15

    for rule in rules:
        expr = rule["expr"]
        used = METRIC.findall(expr)
        assert used or "up{" in expr, rule["alert"]
        label_sets = []
        for name, matchers in used:
            assert _family_of(name, families), f"{rule['alert']}: {name} is not on /metrics"
            samples = _samples(text, name)
            known = _catalogue_labels(name)
            if known is None:  # django-prometheus / process: the labels its samples show
                known = {label for sample in samples for label in sample} | {"job", "instance"}
            else:
                known |= {"job", "instance"}
            label_sets.append(known)
            for label, op, value in MATCHER.findall(matchers or ""):
                assert label in known, f"{rule['alert']}: {name} has no label {label}"
                if op == "=" and samples and label not in ("job", "instance"):
                    assert any(s.get(label) == value for s in samples), (
                        f"{rule['alert']}: no {name}{{{label}={value!r}}}"
                    )
        for clause in BY.findall(expr):
            for label in (x.strip() for x in clause.split(",")):
                assert label == "le" or any(label in known for known in label_sets), (
                    f"{rule['alert']}: by ({label}) is not a label of its metrics"
                )
