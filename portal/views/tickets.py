"""Fault reports (trouble tickets): the enterprise opens a ticket against one of its
services, follows the repair clock and the public notes, adds notes, and accepts or
rejects a resolution (the enterprise administrator decides).

Every query goes through `assurance.selectors.tickets_of_enterprise`, so another
enterprise's ticket is a 404; internal notes never reach these pages.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView, TemplateView
from django_fsm import TransitionNotAllowed

from assurance import selectors as assurance_selectors
from assurance import services as assurance_services
from assurance.models import Ticket
from core import clock
from fulfillment.models import Subscription
from fulfillment.selectors import subscriptions_of_enterprise
from portal.access import PortalAdminMixin, PortalMixin
from portal.forms import TicketForm, TicketNoteForm, TicketRejectForm


def _errors(exc) -> str:
    return "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


class TicketScopedMixin:
    """The ticket named in the URL, among the user's enterprise's tickets only."""

    def get_ticket(self) -> Ticket:
        try:
            return assurance_selectors.tickets_of_enterprise(self.enterprise.pk).get(
                pk=self.kwargs["pk"]
            )
        except Ticket.DoesNotExist as exc:
            raise Http404 from exc


class TicketListView(PortalMixin, ListView):
    """The enterprise's tickets, open ones first, each with its repair clock."""

    template_name = "portal/tickets/list.html"
    context_object_name = "tickets"
    paginate_by = 20

    def get_queryset(self):
        return assurance_selectors.tickets_of_enterprise(self.enterprise.pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = clock.now()
        context["rows"] = [
            (t, assurance_selectors.ticket_clock(t, now=now)) for t in context["tickets"]
        ]
        return context


class TicketCreateView(PortalMixin, FormView):
    """Report a fault on one of the enterprise's live services."""

    template_name = "portal/tickets/create.html"
    form_class = TicketForm

    def subscriptions(self):
        return subscriptions_of_enterprise(self.enterprise.pk, states=Subscription.LIVE_STATES)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["subscriptions"] = self.subscriptions()
        return kwargs

    def form_valid(self, form):
        data = form.cleaned_data
        user = self.request.user
        try:
            subscription = self.subscriptions().get(pk=int(data["subscription"]))
            ticket = assurance_services.ticket_create(
                by=user,
                description=data["description"],
                ticket_type=data["ticket_type"],
                severity=data["severity"],
                channel=Ticket.Channel.PORTAL,
                enterprise_id=self.enterprise.pk,
                name=data["name"],
                subscription_ids=[subscription.pk],
                reporter_name=str(user),
                reporter_contact=data.get("contact") or "",
            )
            if data.get("attachment"):
                assurance_services.ticket_attachment_add(
                    ticket_id=ticket.pk,
                    by=user,
                    name=data["attachment"].name,
                    file=data["attachment"],
                )
        except (Subscription.DoesNotExist, ValueError):
            form.add_error("subscription", _("请选择本企业的业务"))
            return self.form_invalid(form)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(
            self.request, _("故障已受理（工单 #%(id)s），修复时钟已开始计时。") % {"id": ticket.pk}
        )
        return redirect("portal:ticket_detail", pk=ticket.pk)


class TicketDetailView(PortalMixin, TicketScopedMixin, TemplateView):
    """One ticket: the repair clock, the public notes and attachments, and actions."""

    template_name = "portal/tickets/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ticket = self.get_ticket()
        context.update(
            ticket=ticket,
            clock=assurance_selectors.ticket_clock(ticket),
            notes=assurance_selectors.public_notes(ticket),
            attachments=ticket.attachments.filter(public=True),
            services=ticket.affected_subscriptions.select_related("service_code"),
            note_form=TicketNoteForm(),
            reject_form=TicketRejectForm(),
        )
        return context


class TicketNoteView(PortalMixin, TicketScopedMixin, View):
    """POST: add a note the NOC will see."""

    def post(self, request, pk):
        ticket = self.get_ticket()
        form = TicketNoteForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请填写补充说明"))
        else:
            assurance_services.ticket_note_add(
                ticket_id=ticket.pk, by=request.user, text=form.cleaned_data["text"], public=True
            )
            messages.success(request, _("补充说明已提交"))
        return redirect("portal:ticket_detail", pk=ticket.pk)


class TicketAcceptView(PortalAdminMixin, TicketScopedMixin, View):
    """POST: the administrator confirms the fault is repaired (the ticket closes)."""

    def post(self, request, pk):
        ticket = self.get_ticket()
        try:
            assurance_services.ticket_accept_resolution(ticket_id=ticket.pk, by=request.user)
        except (ValidationError, TransitionNotAllowed) as exc:
            messages.error(request, _("无法确认：%(e)s") % {"e": _errors(exc)})
        else:
            messages.success(request, _("已确认修复，工单关闭"))
        return redirect("portal:ticket_detail", pk=ticket.pk)


class TicketRejectView(PortalAdminMixin, TicketScopedMixin, View):
    """POST: the administrator says the fault is still there (the ticket reopens)."""

    def post(self, request, pk):
        ticket = self.get_ticket()
        form = TicketRejectForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请说明故障仍然存在的情况"))
            return redirect("portal:ticket_detail", pk=ticket.pk)
        try:
            assurance_services.ticket_reject_resolution(
                ticket_id=ticket.pk, by=request.user, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, TransitionNotAllowed) as exc:
            messages.error(request, _("无法提交：%(e)s") % {"e": _errors(exc)})
        else:
            messages.success(request, _("已退回处理，修复时钟继续计时"))
        return redirect("portal:ticket_detail", pk=ticket.pk)
