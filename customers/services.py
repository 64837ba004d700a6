"""Write services for the enterprise file. Views, admin actions and tasks call these."""

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from core import clock
from core.models import User
from core.phone import normalize_mobile
from core.roles import ENTERPRISE_ROLES, Role
from core.services import state_change_record

from .models import (
    ApiToken,
    ChurnWarning,
    Contact,
    Enterprise,
    EnterpriseMembership,
    RegisteredRecipient,
    Signature,
)
from .signature_check import signature_core, signature_match

ENTERPRISE_EDITABLE_FIELDS = {
    "name",
    "credit_code",
    "brands",
    "province",
    "city",
    "address",
    "industry",
    "grade",
    "account_manager",
    "parent",
    "billing_contact",
    "payment_method",
    "bank_name",
    "bank_account_name",
    "bank_account_number",
    "good_credit",
    "notes",
}


# Kept beside the file for TMF629 (customers.api.serializers); never in the admin form.
ENTERPRISE_TMF_FIELDS = {"tmf_extra", "tmf_status", "tmf_status_for"}


def _publish(enterprise: Enterprise, event_type: str) -> None:
    """Put a TMF629 customer event in the outbox (only if some subscriber wants it)."""
    from .api.events import publish_customer_event

    publish_customer_event(enterprise, event_type)


def _refuse_unknown(fields: Iterable[str], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(
            _("不可修改的字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )


@transaction.atomic
def enterprise_save(*, enterprise: Enterprise, by: User | None) -> Enterprise:
    """Validate and save an enterprise's file (new or edited; never its status).

    A new enterprise is a prospect; an enterprise past that stage must keep a complete
    file. Raises ValidationError on bad data.
    """
    enterprise.full_clean(exclude=["status"])
    created = enterprise.pk is None
    if not created and enterprise.status != Enterprise.Status.PROSPECT:
        enterprise_require_complete_file(enterprise)
    enterprise.save()
    _publish(enterprise, "CustomerCreateEvent" if created else "CustomerAttributeValueChangeEvent")
    return enterprise


def enterprise_create(*, by: User | None, **fields) -> Enterprise:
    """Record a new enterprise as a prospect; raises ValidationError on bad data."""
    _refuse_unknown(fields, ENTERPRISE_EDITABLE_FIELDS | ENTERPRISE_TMF_FIELDS)
    return enterprise_save(enterprise=Enterprise(**fields), by=by)


@transaction.atomic
def enterprise_update(*, enterprise_id: int, by: User | None, **fields) -> Enterprise:
    """Change editable fields of an enterprise (never its status: use the transitions)."""
    _refuse_unknown(fields, ENTERPRISE_EDITABLE_FIELDS | ENTERPRISE_TMF_FIELDS)
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    for name, value in fields.items():
        setattr(enterprise, name, value)
    return enterprise_save(enterprise=enterprise, by=by)


def enterprise_require_complete_file(enterprise: Enterprise) -> None:
    """An active enterprise's file is complete: credit code, region, manager, primary contact."""
    errors: dict[str, str] = {}
    if not enterprise.credit_code:
        errors["credit_code"] = _("在网客户必须登记统一社会信用代码")
    if not enterprise.city:
        errors["city"] = _("在网客户必须登记所在城市")
    if enterprise.account_manager_id is None:
        errors["account_manager"] = _("在网客户必须指定客户经理")
    if errors:
        raise ValidationError(errors)
    if not enterprise.contacts.filter(is_primary=True).exists():
        raise ValidationError(_("在网客户必须有一位主要联系人"))


@transaction.atomic
def enterprise_activate(*, enterprise_id: int, by: User | None, reason: str = "") -> Enterprise:
    """Move a prospect to active once its file is complete."""
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    enterprise.full_clean(exclude=["status"])
    enterprise_require_complete_file(enterprise)
    before = enterprise.status
    enterprise.activate(at=clock.now())
    enterprise.save()
    state_change_record(obj=enterprise, before=before, by=by, reason=reason, field="status")
    _publish(enterprise, "CustomerStateChangeEvent")
    return enterprise


def _enterprise_transition(enterprise_id: int, by: User | None, reason: str, name: str, **kw):
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    before = enterprise.status
    getattr(enterprise, name)(**kw)
    enterprise.save()
    state_change_record(obj=enterprise, before=before, by=by, reason=reason, field="status")
    _publish(enterprise, "CustomerStateChangeEvent")
    return enterprise


@transaction.atomic
def enterprise_suspend(*, enterprise_id: int, by: User | None, reason: str) -> Enterprise:
    """Suspend an active enterprise (e.g. a breach under investigation)."""
    return _enterprise_transition(enterprise_id, by, reason, "suspend")


@transaction.atomic
def enterprise_resume(*, enterprise_id: int, by: User | None, reason: str = "") -> Enterprise:
    """Return a suspended enterprise to active."""
    return _enterprise_transition(enterprise_id, by, reason, "resume")


@transaction.atomic
def enterprise_close(*, enterprise_id: int, by: User | None, reason: str) -> Enterprise:
    """Close the enterprise's file (销户); its history is kept."""
    return _enterprise_transition(enterprise_id, by, reason, "close", at=clock.now())


@transaction.atomic
def contact_save(
    *,
    enterprise_id: int,
    by: User | None,
    contact_id: int | None = None,
    **fields,
) -> Contact:
    """Create or update a contact; making one primary makes the previous primary ordinary."""
    allowed = {"name", "role", "mobile", "email", "is_primary"}
    _refuse_unknown(fields, allowed)
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    if contact_id is None:
        contact = Contact(enterprise=enterprise)
    else:
        contact = Contact.objects.get(pk=contact_id, enterprise=enterprise)
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.full_clean(validate_constraints=False)
    if contact.is_primary:
        enterprise.contacts.filter(is_primary=True).exclude(pk=contact.pk).update(is_primary=False)
    contact.save()
    _publish(enterprise, "CustomerAttributeValueChangeEvent")
    return contact


@transaction.atomic
def enterprise_contacts_replace(
    *, enterprise_id: int, contacts: list[dict], by: User | None
) -> Enterprise:
    """Make the enterprise's contacts exactly `contacts` (TMF629 `contactMedium`).

    Each item has `mobile` and optionally `name`, `role`, `email`, `is_primary`;
    contacts are matched by mobile number (updated), the others are created, and
    contacts not listed are removed. At most one may be primary, and an enterprise past
    the prospect stage keeps a primary contact.
    """
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    wanted: dict[str, dict] = {}
    for item in contacts:
        mobile = normalize_mobile(item.get("mobile") or "")
        if mobile in wanted:
            raise ValidationError({"mobile": _("联系人手机号码重复：%(m)s") % {"m": mobile}})
        wanted[mobile] = item
    if sum(1 for item in wanted.values() if item.get("is_primary")) > 1:
        raise ValidationError(_("每个集团客户只能有一位主要联系人"))
    existing = {contact.mobile: contact for contact in enterprise.contacts.all()}
    enterprise.contacts.exclude(mobile__in=list(wanted)).delete()
    enterprise.contacts.update(is_primary=False)
    for mobile, item in wanted.items():
        contact = existing.get(mobile) or Contact(enterprise=enterprise, mobile=mobile)
        contact.name = (item.get("name") or contact.name or _("联系人"))[:60]
        contact.role = (item.get("role") if item.get("role") is not None else contact.role)[:60]
        contact.email = item.get("email") if item.get("email") is not None else contact.email
        contact.is_primary = bool(item.get("is_primary"))
        contact.full_clean(validate_constraints=False)
        contact.save()
    if enterprise.status != Enterprise.Status.PROSPECT:
        enterprise_require_complete_file(enterprise)
    _publish(enterprise, "CustomerAttributeValueChangeEvent")
    return enterprise


@transaction.atomic
def enterprise_status_label_set(*, enterprise_id: int, label: str, label_for: str) -> None:
    """Remember how a TMF629 client spelled the status it asked for (core.tmf.states).

    Presentation only: the status itself changes through the transitions above.
    """
    Enterprise.objects.filter(pk=enterprise_id).update(
        tmf_status=label[:60], tmf_status_for=label_for
    )


@transaction.atomic
def enterprise_delete(*, enterprise_id: int, by: User | None) -> None:
    """Delete a prospect's file (TMF629 DELETE): it never became a customer.

    An enterprise that has been active keeps its file for its history, contracts and
    bills: it is closed (销户), never deleted.
    """
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    if enterprise.status != Enterprise.Status.PROSPECT:
        raise ValidationError(
            _("只能删除潜在客户；已入网的客户请办理销户（状态改为 closed），档案保留")
        )
    _publish(enterprise, "CustomerDeleteEvent")
    try:
        with transaction.atomic():
            enterprise.delete()
    except ProtectedError as exc:
        raise ValidationError(_("该客户已有关联业务记录，不能删除")) from exc


@transaction.atomic
def recipient_add(
    *,
    enterprise_id: int,
    msisdn: str,
    consent_source: str,
    consented_at: dt.datetime | None = None,
    name: str = "",
    group_label: str = "",
    by: User | None = None,
) -> RegisteredRecipient:
    """Register a number the enterprise may send to, with the recipient's consent (第4条).

    A number that had opted out and consents again is re-registered (opt-out cleared).
    """
    number = normalize_mobile(msisdn)
    if not consent_source.strip():
        raise ValidationError({"consent_source": _("必须记录接收人同意的方式")})
    existing = (
        RegisteredRecipient.objects.select_for_update()
        .filter(enterprise_id=enterprise_id, msisdn=number)
        .first()
    )
    if existing is not None:
        if not existing.is_opted_out:
            raise ValidationError({"msisdn": _("该号码已在本企业的注册客户名单中")})
        existing.opted_out_at = None
        existing.consent_source = consent_source
        existing.consented_at = consented_at or clock.now()
        existing.name = name or existing.name
        existing.group_label = group_label or existing.group_label
        existing.save()
        return existing
    return RegisteredRecipient.objects.create(
        enterprise_id=enterprise_id,
        msisdn=number,
        name=name,
        group_label=group_label,
        consent_source=consent_source,
        consented_at=consented_at or clock.now(),
    )


@transaction.atomic
def recipient_opt_out(
    *, enterprise_id: int, msisdn: str, by: User | None = None
) -> RegisteredRecipient:
    """Record that a recipient no longer wants the enterprise's messages (kept for evidence)."""
    number = normalize_mobile(msisdn)
    try:
        recipient = RegisteredRecipient.objects.select_for_update().get(
            enterprise_id=enterprise_id, msisdn=number
        )
    except RegisteredRecipient.DoesNotExist as exc:
        raise ValidationError({"msisdn": _("该号码不在本企业的注册客户名单中")}) from exc
    if recipient.opted_out_at is None:
        recipient.opted_out_at = clock.now()
        recipient.save(update_fields=["opted_out_at"])
    return recipient


@transaction.atomic
def signature_submit(*, enterprise_id: int, text: str, by: User | None) -> Signature:
    """Ask for a signature; the match against the registered name is recorded as evidence."""
    text = text.strip()
    if signature_core(text) is None:
        raise ValidationError({"text": _("签名须为全角【】括起的2至20个字符，如【郑州宇通】")})
    enterprise = Enterprise.objects.get(pk=enterprise_id)
    brands = [brand.strip() for brand in enterprise.brands.replace("，", ",").split(",")]
    match = signature_match(text, name=enterprise.name, brands=brands)
    signature = Signature(
        enterprise=enterprise,
        text=text,
        matches_registered_name=match.plausible,
        match_evidence=match.evidence,
        submitted_by=by if by is not None and by.is_authenticated else None,
    )
    try:
        with transaction.atomic():
            signature.save()
    except IntegrityError as exc:
        raise ValidationError({"text": _("该签名已申请或已通过")}) from exc
    state_change_record(obj=signature, before="", by=by, reason=match.evidence)
    return signature


@transaction.atomic
def signature_approve(*, signature_id: int, by: User, evidence: str = "") -> Signature:
    """Approve a submitted signature.

    When the text does not plausibly match the registered name or brands, approval needs
    documentary evidence (trademark registration, authorisation letter) in `evidence`.
    """
    signature = Signature.objects.select_for_update().get(pk=signature_id)
    if not signature.matches_registered_name and not evidence.strip():
        raise ValidationError(
            _("签名与企业登记名称不符（%(why)s）：须填写审核依据，如商标注册证号或授权书")
            % {"why": signature.match_evidence}
        )
    before = signature.state
    signature.approve(by=by, at=clock.now(), evidence=evidence.strip())
    signature.save()
    state_change_record(obj=signature, before=before, by=by, reason=evidence)
    return signature


@transaction.atomic
def signature_reject(*, signature_id: int, by: User, reason: str) -> Signature:
    """Reject a submitted signature with the reason the enterprise will see."""
    if not reason.strip():
        raise ValidationError(_("驳回须说明原因"))
    signature = Signature.objects.select_for_update().get(pk=signature_id)
    before = signature.state
    signature.reject(by=by, at=clock.now(), reason=reason.strip())
    signature.save()
    state_change_record(obj=signature, before=before, by=by, reason=reason)
    return signature


@transaction.atomic
def churn_warning_raise(*, enterprise_id: int, kind: str, detail: str) -> tuple[ChurnWarning, bool]:
    """Raise a churn warning for the enterprise's manager unless one of that kind is live.

    Returns the warning and whether it was raised now.
    """
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    live = ChurnWarning.objects.filter(
        enterprise=enterprise,
        kind=kind,
        state__in=[ChurnWarning.State.OPEN, ChurnWarning.State.ACKNOWLEDGED],
    ).first()
    if live is not None:
        return live, False
    warning = ChurnWarning.objects.create(
        enterprise=enterprise,
        manager=enterprise.account_manager,
        kind=kind,
        detail=detail,
        raised_on=clock.today(),
    )
    state_change_record(obj=warning, before="", by=None, reason=detail)
    return warning, True


@transaction.atomic
def churn_warning_acknowledge(*, warning_id: int, by: User, action_taken: str) -> ChurnWarning:
    """The manager records what they did about the warning (visit, call, offer)."""
    if not action_taken.strip():
        raise ValidationError(_("请填写跟进措施"))
    warning = ChurnWarning.objects.select_for_update().get(pk=warning_id)
    before = warning.state
    warning.acknowledge(at=clock.now(), action_taken=action_taken.strip())
    warning.save()
    state_change_record(obj=warning, before=before, by=by, reason=action_taken)
    return warning


@transaction.atomic
def churn_warning_close(*, warning_id: int, by: User, reason: str = "") -> ChurnWarning:
    """Close a warning (the customer is retained, or the risk has passed)."""
    warning = ChurnWarning.objects.select_for_update().get(pk=warning_id)
    before = warning.state
    warning.close(at=clock.now())
    warning.save()
    state_change_record(obj=warning, before=before, by=by, reason=reason)
    return warning


@transaction.atomic
def enterprise_user_create(
    *,
    enterprise_id: int,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    email: str = "",
    mobile: str = "",
    by: User | None = None,
) -> User:
    """Create a portal user of one enterprise with the administrator or operator role."""
    if role not in ENTERPRISE_ROLES:
        raise ValidationError(_("企业用户只能是企业管理员或企业操作员"))
    enterprise = Enterprise.objects.get(pk=enterprise_id)
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("用户名已被使用")})
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        mobile=normalize_mobile(mobile) if mobile else "",
        is_staff=False,
    )
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=role.value))
    EnterpriseMembership.objects.create(user=user, enterprise=enterprise)
    return user


@transaction.atomic
def enterprise_user_set_active(*, user_id: int, active: bool, by: User | None) -> User:
    """Switch an enterprise user's login on or off; their tokens stop working while off."""
    user = User.objects.select_for_update().get(pk=user_id, membership__isnull=False)
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user


def recipients_import(
    *,
    dataset,
    enterprise: Enterprise | None = None,
    enterprises=None,
    by: User | None = None,
    dry_run: bool = False,
):
    """Import registered recipients from a tablib Dataset, all or nothing.

    Returns the import-export Result; when it has errors or invalid rows nothing was
    written, and `recipient_import_report(result)` lists them row by row.
    """
    from .resources import RegisteredRecipientResource

    resource = RegisteredRecipientResource(enterprise=enterprise, enterprises=enterprises)
    return resource.import_data(
        dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=True,
        user=by,
    )


def recipient_import_report(result) -> list[dict]:
    """One entry per problem: row number (1 = first data row), column and message."""
    report = []
    for invalid in result.invalid_rows:
        for field, messages in invalid.error_dict.items():
            for message in messages:
                report.append({"row": invalid.number, "field": field, "message": str(message)})
    for row_number, errors in result.row_errors():
        for error in errors:
            report.append({"row": row_number, "field": "", "message": str(error.error)})
    for error in result.base_errors:
        report.append({"row": 0, "field": "", "message": str(error.error)})
    return sorted(report, key=lambda item: (item["row"], item["field"]))


# ----------------------------------------------------------------------- API tokens
TOKEN_PREFIX = "mas_"  # noqa: S105 (a marker, not a secret)
TOKEN_TOUCH_SECONDS = 60


def api_token_digest(secret: str) -> str:
    """The stored form of a token: its SHA-256 in hex (the token has 256 random bits)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_issue(
    *,
    user: User,
    role: str,
    name: str,
    enterprise_id: int | None = None,
    expires_at: dt.datetime | None = None,
    by: User | None,
    secret: str | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token for `user` acting in `role`; returns the row and the token, shown once.

    Staff roles: the user holds the role; no enterprise. Enterprise roles: the user is a
    member of `enterprise_id` and holds the role. No role: superusers only (full access).
    `secret` is for the demo data only (a known token); normally it is generated.
    """
    api_token_check(
        user=user, role=role, name=name, enterprise_id=enterprise_id, expires_at=expires_at
    )
    secret = secret or TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip(),
        user=user,
        role=role or "",
        enterprise_id=enterprise_id,
        prefix=secret[:12],
        digest=api_token_digest(secret),
        created_by=by if by is not None and by.is_authenticated else None,
        expires_at=expires_at,
    )
    token.full_clean(exclude=["prefix", "digest"])
    token.save()
    return token, secret


def api_token_check(
    *,
    user: User,
    role: str,
    name: str,
    enterprise_id: int | None,
    expires_at: dt.datetime | None,
) -> None:
    """The rules of `api_token_issue`; raises ValidationError naming the broken one."""
    role = role or ""
    if not user.is_active:
        raise ValidationError({"user": _("用户已停用，不能签发令牌")})
    if not name.strip():
        raise ValidationError({"name": _("请填写令牌用途")})
    if role == "":
        if not user.is_superuser:
            raise ValidationError({"role": _("只有超级管理员的令牌可以不限角色")})
        if enterprise_id is not None:
            raise ValidationError({"enterprise": _("不限角色的令牌不能绑定集团客户")})
    else:
        if role not in Role.values:
            raise ValidationError({"role": _("未知角色：%(role)s") % {"role": role}})
        if not user.is_superuser and not user.groups.filter(name=role).exists():
            raise ValidationError({"role": _("该用户不具备所选角色")})
        if role in ENTERPRISE_ROLES:
            membership = EnterpriseMembership.objects.filter(user=user).first()
            if enterprise_id is None or membership is None:
                raise ValidationError(
                    {"enterprise": _("企业角色的令牌必须绑定该用户所属的集团客户")}
                )
            if membership.enterprise_id != enterprise_id:
                raise ValidationError(
                    {"enterprise": _("令牌绑定的集团客户须为该用户所属的集团客户")}
                )
        elif enterprise_id is not None:
            raise ValidationError({"enterprise": _("员工角色的令牌不能绑定集团客户")})
    if expires_at is not None and expires_at <= clock.now():
        raise ValidationError({"expires_at": _("到期时间须晚于现在")})


@transaction.atomic
def api_token_revoke(*, token_id: int, by: User | None) -> ApiToken:
    """Revoke a token: from now on it authenticates no one (idempotent)."""
    token = ApiToken.objects.select_for_update().get(pk=token_id)
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.revoked_by = by if by is not None and by.is_authenticated else None
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def api_token_use(*, secret: str) -> ApiToken | None:
    """The usable token for a presented secret (recording when it was last used), or None.

    `last_used_at` is written at most once a minute per token, so a busy integration does
    not turn every read into a write.
    """
    if not secret or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "enterprise")
        .filter(digest=api_token_digest(secret))
        .first()
    )
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = clock.now()
    if (
        token.last_used_at is None
        or (now - token.last_used_at).total_seconds() >= TOKEN_TOUCH_SECONDS
    ):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
