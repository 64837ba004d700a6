"""Reminders to an enterprise's billing contact: SMS through smsgw's operator notices and
e-mail. Returns a short outcome for the dunning record; numbers are masked in it."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from core.phone import mask_mobile
from smsgw.services import SendRefused, operator_notice_send

logger = logging.getLogger(__name__)


def _sms(enterprise, phone: str, text: str, topic: str) -> str:
    """Send an operator notice by SMS through smsgw; the refusal's reason when it cannot."""
    try:
        operator_notice_send(
            enterprise_id=enterprise.pk, text=text, topic=topic, phone_numbers=[phone]
        )
    except SendRefused as exc:
        logger.warning("billing reminder SMS refused for enterprise %s", enterprise.pk)
        return _("短信未发送（%(r)s）") % {"r": "; ".join(exc.messages)}
    return _("短信已提交至 %(p)s") % {"p": mask_mobile(phone)}


def remind(enterprise, contact, text: str, topic: str, *, email: bool = False) -> str:
    """Send `text` to the billing contact by SMS (and e-mail when asked)."""
    if contact is None:
        return _("无账务联系人，未发送提醒")
    outcomes = []
    if contact.mobile:
        outcomes.append(_sms(enterprise, contact.mobile, text, f"billing:{topic}"))
    if email and contact.email:
        send_mail(
            subject=_("集团短信业务缴费提醒"),
            message=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[contact.email],
            fail_silently=True,
        )
        outcomes.append(_("邮件已发送"))
    logger.info("billing reminder %s for enterprise %s", topic, enterprise.pk)
    return "；".join(str(o) for o in outcomes) or _("联系人无手机号码和邮箱，未发送")
