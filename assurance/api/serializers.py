"""TMF621 `troubleTicket` ↔ assurance.Ticket.

Mapping (also in docs/assurance.md):
- `description`, `severity`, `ticketType`, `priority`, `name`, `externalId` are stored and
  returned exactly as given: they are the reporter's words (an enterprise reports a
  symptom such as "connectivity"). `status` is the ticket's state machine (TMF621
  values); a PATCH of `status` runs the matching service (claim, pend, hold, resume,
  resolve, close = accept the resolution, inProgress from resolved = reject it, cancel,
  reject), with `statusChangeReason` as the reason (and as the resolution when
  resolving); anything else is 409 with `allowedValues`.
- `creationDate` = report time (the repair clock's start); `lastUpdate`;
  `statusChangeDate`; `expectedResolutionDate` = the repair deadline while the clock
  runs; `resolutionDate`; `requestedResolutionDate` as given.
- `channel`: `id` portal, api, staff or alarm (`name` its label).
- `relatedEntity`: affected subscriptions (`@referredType` "Product", role
  "affectedService", name = service code), MAS ports ("Resource", role
  "affectedResource") and the ISMG link ("Resource", role "affectedLink", id
  "host:port"); references to entities we do not hold are kept as given.
- `relatedParty`: the enterprise (role "customer", "Organization"), the reporter (role
  "reporter"), the first-contact owner (role "firstContactOwner", 首问负责人) and the
  current assignee (role "assignee"). On create an enterprise caller's party comes from
  its token; staff name the enterprise with a "customer" party (or it follows from the
  subscriptions).
- `note`: the notes; enterprise callers see and add public notes only. Staff see the
  extension `visibility` ("public" / "internal") on each note and may send it.
- `attachment`: files and links (`url`, `name`, `mimeType`, `size`); on input an
  attachment with a `url` is recorded as a link.
- `statusChange`: the recorded state changes.

Extension attributes (documented, not in the v4 schema):
- `faultClass` {`code`, `name`, `repairHours` (null = not covered)}: the class that sets
  the repair clock, set by NOC (`faultClass.code` on PATCH or POST by staff) or mapped
  from `ticketType`;
- `repairClock` {`startDate`, `targetHours`, `deadline`, `timeLeftSeconds` (negative when
  breached; frozen while paused), `pausedSeconds` (total), `paused`, `stopped`,
  `breached`, `excludedFromStatistics`, `exclusionReason`, `escalationLevel`}.
"""

from django.contrib.contenttypes.models import ContentType
from rest_framework import serializers

from core import clock
from core.models import StateChange
from core.tmf.errors import TmfBadRequestError, TmfError
from core.tmf.fields import TmfDateTimeField
from core.tmf.format import tmf_datetime
from core.tmf.serializers import TmfSerializer, parse_pk, split_refs
from core.tmf.states import StateMap
from fulfillment.models import MasPort, Subscription

from .. import services
from ..models import Ticket
from ..selectors import ticket_clock
from .spec import TMF621

STATUS = StateMap("status", {state: [] for state in Ticket.State.values})
CUSTOMER_ROLES = {"customer", "organization", "enterprise", "客户"}


class ForbiddenError(TmfError):
    status_code = 403
    code = "forbidden"
    reason = "Forbidden"


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


class TroubleTicketSerializer(TmfSerializer):
    """TMF621 TroubleTicket over assurance.Ticket; see the module docstring."""

    tmf_type = "TroubleTicket"
    spec = TMF621
    view_name = "tmf621:troubleTicket-detail"
    state_attribute = "status"
    server_set = (
        "creationDate",
        "lastUpdate",
        "statusChangeDate",
        "statusChange",
        "resolutionDate",
        "expectedResolutionDate",
        "repairClock",
    )
    passthrough = ("troubleTicketRelationship",)

    description = serializers.CharField(allow_blank=False)
    severity = serializers.CharField()
    ticketType = serializers.CharField()
    name = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    priority = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    externalId = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    requestedResolutionDate = TmfDateTimeField(required=False, allow_null=True)
    status = serializers.CharField(required=False, allow_null=True)
    statusChangeReason = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    note = serializers.ListField(child=serializers.DictField(), required=False, allow_null=True)
    attachment = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True
    )
    relatedEntity = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True
    )
    relatedParty = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True
    )
    channel = serializers.DictField(required=False, allow_null=True)
    faultClass = serializers.JSONField(required=False, allow_null=True)

    # ----------------------------------------------------------------- representation
    def _public_only(self) -> bool:
        if self.context.get("public_only"):
            return True
        request = self.context.get("request")
        return request is not None and self.context.get("enterprise_id") is not None

    def represent(self, t: Ticket) -> dict:
        public_only = self._public_only()
        return {
            "name": t.name or None,
            "description": t.description,
            "severity": t.severity,
            "ticketType": t.ticket_type,
            "priority": t.priority or None,
            "externalId": t.external_id or None,
            "status": t.state,
            "statusChangeReason": t.status_change_reason or None,
            "statusChangeDate": tmf_datetime(t.status_changed_at),
            "creationDate": tmf_datetime(t.reported_at),
            "lastUpdate": tmf_datetime(t.updated_at),
            "expectedResolutionDate": tmf_datetime(t.sla_deadline),
            "resolutionDate": tmf_datetime(t.resolved_at),
            "requestedResolutionDate": tmf_datetime(t.requested_resolution_at),
            "channel": {"id": t.channel, "name": t.get_channel_display(), "@type": "ChannelRef"},
            "relatedEntity": self._entities(t) or None,
            "relatedParty": self._parties(t) or None,
            "note": self._notes(t, public_only) or None,
            "attachment": self._attachments(t, public_only) or None,
            "statusChange": self._history(t) or None,
            "faultClass": {
                "code": t.fault_class.code,
                "name": t.fault_class.name,
                "repairHours": (
                    float(t.fault_class.repair_hours)
                    if t.fault_class.repair_hours is not None
                    else None
                ),
            },
            "repairClock": self._clock(t),
        }

    @staticmethod
    def _clock(t: Ticket) -> dict:
        view = ticket_clock(t, now=clock.now())
        return {
            "startDate": tmf_datetime(t.reported_at),
            "targetHours": view.target_hours,
            "deadline": tmf_datetime(t.sla_deadline),
            "timeLeftSeconds": _seconds(view.time_left),
            "pausedSeconds": _seconds(view.paused_total),
            "paused": view.paused,
            "stopped": t.sla_stopped_at is not None,
            "breached": t.sla_breached,
            "excludedFromStatistics": bool(t.sla_excluded),
            "exclusionReason": t.sla_exclusion_reason or None,
            "escalationLevel": t.escalation_level,
        }

    def _entities(self, t: Ticket) -> list[dict]:
        entities = [
            {
                "id": str(s.pk),
                "name": s.service_code.code,
                "role": "affectedService",
                "@referredType": "Product",
            }
            for s in t.affected_subscriptions.all()
        ]
        entities += [
            {
                "id": str(p.pk),
                "name": f"{p.server.name}:{p.number}",
                "role": "affectedResource",
                "@referredType": "Resource",
            }
            for p in t.affected_ports.all()
        ]
        if t.ismg_link:
            entities.append(
                {"id": t.ismg_link, "role": "affectedLink", "@referredType": "Resource"}
            )
        return entities + self.kept_list(t, "relatedEntity")

    def _parties(self, t: Ticket) -> list[dict]:
        parties = []
        if t.enterprise_id:
            parties.append(
                {
                    "id": str(t.enterprise_id),
                    "name": t.enterprise.name,
                    "role": "customer",
                    "@referredType": "Organization",
                }
            )
        if t.reporter_name or t.reported_by_id:
            parties.append(
                {
                    "id": str(t.reported_by_id or t.reporter_name),
                    "name": t.reporter_name or None,
                    "role": "reporter",
                    "@referredType": "Individual",
                }
            )
        for user, role in ((t.owner, "firstContactOwner"), (t.assignee, "assignee")):
            if user is not None:
                parties.append(
                    {
                        "id": str(user.pk),
                        "name": str(user),
                        "role": role,
                        "@referredType": "Individual",
                    }
                )
        return [{k: v for k, v in p.items() if v is not None} for p in parties] + self.kept_list(
            t, "relatedParty"
        )

    @staticmethod
    def _notes(t: Ticket, public_only: bool) -> list[dict]:
        notes = []
        for note in t.notes.all():
            if public_only and not note.public:
                continue
            item = {
                "id": str(note.pk),
                "author": note.author_name or None,
                "date": tmf_datetime(note.created_at),
                "text": note.text,
                "@type": "Note",
            }
            if not public_only:
                item["visibility"] = "public" if note.public else "internal"
            notes.append({k: v for k, v in item.items() if v is not None})
        return notes

    def _attachments(self, t: Ticket, public_only: bool) -> list[dict]:
        items = []
        for a in t.attachments.all():
            if public_only and not a.public:
                continue
            url = a.url or (self.absolute(a.file.url) if a.file else None)
            item = {
                "id": str(a.pk),
                "name": a.name,
                "url": url,
                "mimeType": a.mime_type or None,
                "size": {"amount": a.size, "units": "bytes"} if a.size is not None else None,
                "description": a.description or None,
                "@type": "Attachment",
            }
            items.append({k: v for k, v in item.items() if v is not None})
        return items

    @staticmethod
    def _history(t: Ticket) -> list[dict]:
        content_type = ContentType.objects.get_for_model(Ticket)
        changes = StateChange.objects.filter(
            content_type=content_type, object_id=t.pk, field="state"
        ).order_by("at", "id")
        return [
            {
                "status": change.to_state,
                "changeDate": tmf_datetime(change.at),
                **({"changeReason": change.reason} if change.reason else {}),
                "@type": "StatusChange",
            }
            for change in changes
        ]

    # ------------------------------------------------------------------------- input
    def _request(self):
        return self.context["request"]

    def _enterprise_id(self) -> int | None:
        return self.context.get("enterprise_id")

    def _fault_class_code(self, value) -> str | None:
        if value in (None, "", {}):
            return None
        if self._enterprise_id() is not None:
            raise ForbiddenError(
                "the fault class is set by the operator's NOC, not by the reporter"
            )
        code = value.get("code") if isinstance(value, dict) else value
        if not isinstance(code, str) or not code:
            raise TmfBadRequestError('faultClass must be {"code": "local_line"} or a code')
        return code

    def _entities_input(self, refs: list[dict]) -> tuple[list[int], list[int], str, list[dict]]:
        subscriptions_q = Subscription.objects.all()
        if self._enterprise_id() is not None:
            subscriptions_q = subscriptions_q.filter(enterprise_id=self._enterprise_id())
        products, resources, link, kept = [], [], "", []
        for ref in refs:
            referred = str(ref.get("@referredType", "")).casefold()
            role = str(ref.get("role", "")).casefold()
            if role == "affectedlink" and not link:
                link = str(ref.get("id", ""))[:120]
            elif referred in ("product", "subscription", "service"):
                products.append(ref)
            elif referred in ("resource", "masport", "logicalresource"):
                resources.append(ref)
            else:
                kept.append(ref)
        known_products, dangling = split_refs(products, subscriptions_q)
        kept += dangling
        ports_q = MasPort.objects.all() if self._enterprise_id() is None else MasPort.objects.none()
        known_ports, dangling = split_refs(resources, ports_q)
        kept += dangling
        return [s.pk for s in known_products], [p.pk for p in known_ports], link, kept

    def _party_input(self, parties: list[dict]) -> tuple[int | None, str, str, list[dict]]:
        enterprise_id = self._enterprise_id()
        reporter_name, reporter_contact, kept = "", "", []
        from customers.models import Enterprise

        for party in parties:
            role = str(party.get("role", "")).casefold()
            if role in CUSTOMER_ROLES and enterprise_id is None and self._enterprise_id() is None:
                pk = parse_pk(party.get("id"))
                if pk and Enterprise.objects.filter(pk=pk).exists():
                    enterprise_id = pk
                    continue
                kept.append(party)
            elif role == "reporter" and not reporter_name:
                reporter_name = str(party.get("name") or "")[:60]
                reporter_contact = str(party.get("contact") or "")[:100]
            elif role in CUSTOMER_ROLES:
                continue
            else:
                kept.append(party)
        return enterprise_id, reporter_name, reporter_contact, kept

    def create(self, validated_data):
        user = self._request().user
        subscriptions, ports, link, kept_entities = self._entities_input(
            validated_data.get("relatedEntity") or []
        )
        enterprise_id, reporter_name, reporter_contact, kept_parties = self._party_input(
            validated_data.get("relatedParty") or []
        )
        if self._enterprise_id() is None and enterprise_id is not None and subscriptions:
            owners = set(
                Subscription.objects.filter(pk__in=subscriptions).values_list(
                    "enterprise_id", flat=True
                )
            )
            if owners - {enterprise_id}:
                raise TmfBadRequestError(
                    "relatedEntity: the affected subscriptions belong to another customer"
                )
        given = validated_data.get("channel") or {}
        channel = given.get("id") or given.get("name")
        if channel not in Ticket.Channel.values or self._enterprise_id() is not None:
            channel = Ticket.Channel.API
        ticket = services.ticket_create(
            by=user,
            description=validated_data["description"],
            ticket_type=validated_data["ticketType"],
            severity=validated_data["severity"],
            channel=channel,
            enterprise_id=enterprise_id,
            name=validated_data.get("name") or "",
            priority=validated_data.get("priority") or "",
            external_id=validated_data.get("externalId") or "",
            requested_resolution_at=validated_data.get("requestedResolutionDate"),
            subscription_ids=subscriptions,
            port_ids=ports,
            ismg_link=link,
            fault_class_code=self._fault_class_code(validated_data.get("faultClass")),
            reporter_name=reporter_name,
            reporter_contact=reporter_contact,
            tmf_extra=self.extra_after(
                None, kept={"relatedEntity": kept_entities, "relatedParty": kept_parties}
            ),
        )
        self._add_notes(ticket, validated_data.get("note") or [])
        self._add_attachments(ticket, validated_data.get("attachment") or [])
        return ticket

    def _add_notes(self, ticket: Ticket, notes: list[dict]) -> None:
        known = {str(pk) for pk in ticket.notes.values_list("pk", flat=True)}
        user = self._request().user
        for note in notes:
            if str(note.get("id", "")) in known or not str(note.get("text") or "").strip():
                continue
            public = True
            if self._enterprise_id() is None:
                public = str(note.get("visibility", "internal")).casefold() == "public"
            services.ticket_note_add(
                ticket_id=ticket.pk, by=user, text=str(note["text"]), public=public
            )

    def _add_attachments(self, ticket: Ticket, attachments: list[dict]) -> None:
        known = {str(pk) for pk in ticket.attachments.values_list("pk", flat=True)}
        for item in attachments:
            if str(item.get("id", "")) in known or not item.get("url"):
                continue
            services.ticket_attachment_add(
                ticket_id=ticket.pk,
                by=self._request().user,
                name=str(item.get("name") or item["url"]),
                url=str(item["url"]),
                mime_type=str(item.get("mimeType") or ""),
                description=str(item.get("description") or ""),
            )

    ENTERPRISE_PATCHABLE = {"status", "statusChangeReason", "note", "attachment"}

    def update(self, instance, validated_data):
        user = self._request().user
        enterprise = self._enterprise_id() is not None
        sent = set(self.initial_data) if isinstance(self.initial_data, dict) else set()
        if enterprise and (sent & set(validated_data)) - self.ENTERPRISE_PATCHABLE:
            raise ForbiddenError(
                "an enterprise may only change status (accept or reject a resolution, "
                "cancel) and add notes or attachments"
            )
        fields = {}
        for attribute, field in (
            ("name", "name"),
            ("description", "description"),
            ("severity", "severity"),
            ("ticketType", "ticket_type"),
            ("priority", "priority"),
            ("externalId", "external_id"),
            ("requestedResolutionDate", "requested_resolution_at"),
        ):
            if attribute in validated_data:
                value = validated_data[attribute]
                fields[field] = value if value is not None or field.endswith("_at") else ""
        if fields:
            Ticket.objects.filter(pk=instance.pk).update(**fields, updated_at=clock.now())
        if "faultClass" in validated_data:
            code = self._fault_class_code(validated_data["faultClass"])
            if code and code != instance.fault_class.code:
                services.ticket_reclassify(
                    ticket_id=instance.pk,
                    fault_class_code=code,
                    by=user,
                    reason=validated_data.get("statusChangeReason") or "",
                )
        self._add_notes(instance, validated_data.get("note") or [])
        self._add_attachments(instance, validated_data.get("attachment") or [])
        if validated_data.get("status"):
            self._change_status(instance.pk, validated_data["status"], validated_data, user)
        return Ticket.objects.get(pk=instance.pk)

    def _change_status(self, ticket_id: int, text: str, data: dict, user) -> None:
        ticket = Ticket.objects.get(pk=ticket_id)
        reason = data.get("statusChangeReason") or ""
        s = Ticket.State
        staff = {
            (s.ACKNOWLEDGED, s.IN_PROGRESS): lambda: services.ticket_claim(
                ticket_id=ticket_id, by=user
            ),
            (s.IN_PROGRESS, s.PENDING): lambda: services.ticket_pend(
                ticket_id=ticket_id, by=user, reason=reason
            ),
            (s.IN_PROGRESS, s.HELD): lambda: services.ticket_hold(
                ticket_id=ticket_id, by=user, reason=reason
            ),
            (s.PENDING, s.IN_PROGRESS): lambda: services.ticket_resume(
                ticket_id=ticket_id, by=user, reason=reason
            ),
            (s.HELD, s.IN_PROGRESS): lambda: services.ticket_resume(
                ticket_id=ticket_id, by=user, reason=reason
            ),
            (s.IN_PROGRESS, s.RESOLVED): lambda: services.ticket_resolve(
                ticket_id=ticket_id, by=user, resolution=reason
            ),
            **{
                (source, s.REJECTED): (
                    lambda: services.ticket_reject(ticket_id=ticket_id, by=user, reason=reason)
                )
                for source in Ticket.OPEN_STATES
            },
        }
        shared = {
            (s.RESOLVED, s.CLOSED): lambda: services.ticket_accept_resolution(
                ticket_id=ticket_id, by=user, comment=reason
            ),
            (s.RESOLVED, s.IN_PROGRESS): lambda: services.ticket_reject_resolution(
                ticket_id=ticket_id, by=user, reason=reason
            ),
            **{
                (source, s.CANCELLED): (
                    lambda: services.ticket_cancel(ticket_id=ticket_id, by=user, reason=reason)
                )
                for source in Ticket.OPEN_STATES
            },
        }
        transitions = shared if self._enterprise_id() is not None else {**staff, **shared}
        STATUS.change(current=ticket.state, text=text, transitions=transitions)
