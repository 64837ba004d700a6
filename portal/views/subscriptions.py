"""Subscriptions and change requests (第11条): a request becomes a fulfillment order."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, ListView

from core import clock
from fulfillment.models import Order, Subscription
from fulfillment.services import ItemRequest, order_create
from fulfillment.services.eligibility import notice_deadline
from portal.access import PortalAdminMixin, PortalMixin
from portal.forms import ChangeRequestForm
from portal.selectors import orders_of, subscription_of


class SubscriptionListView(PortalMixin, ListView):
    """The enterprise's services and its orders (change requests and their outcome)."""

    template_name = "portal/subscriptions/list.html"
    context_object_name = "subscriptions"

    def get_queryset(self):
        return Subscription.objects.filter(enterprise=self.enterprise).select_related(
            "service_code", "offering", "contract"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["orders"] = orders_of(self.enterprise)[:20]
        return context


class ChangeRequestView(PortalAdminMixin, FormView):
    """Request a modify / suspend / resume / terminate of one subscription.

    Changes must be requested at least one month ahead (第11条); the form says so and
    proposes that date, and the order's eligibility checks have the last word (a request
    for an earlier date is created and rejected with the rule named).
    """

    template_name = "portal/subscriptions/change.html"
    form_class = ChangeRequestForm

    def get_subscription(self) -> Subscription:
        try:
            return subscription_of(self.enterprise, self.kwargs["pk"])
        except Subscription.DoesNotExist as exc:
            raise Http404 from exc

    def get_initial(self):
        return {"effective_date": notice_deadline(clock.now())}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["subscription"] = self.get_subscription()
        context["earliest_change_date"] = notice_deadline(clock.now())
        return context

    def form_valid(self, form):
        subscription = self.get_subscription()
        data = form.cleaned_data
        item = ItemRequest(
            action=data["action"],
            subscription=subscription.pk,
            offering=data["offering"].pk if data.get("offering") else subscription.offering_id,
            cmpp_version=data.get("cmpp_version") or "",
            access_ip=data.get("access_ip") or "",
        )
        try:
            order = order_create(
                by=self.request.user,
                items=[item],
                enterprise=self.enterprise.pk,
                requested_start_at=form.requested_start_at(),
                description=data.get("description", ""),
                channel=Order.Channel.PORTAL,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        if order.state == Order.State.REJECTED:
            reasons = "；".join(f"{r['rule']}：{r['message']}" for r in order.rejection_reasons)
            messages.error(self.request, _("申请未被受理：%(reasons)s") % {"reasons": reasons})
        else:
            messages.success(
                self.request, _("申请已受理（订单号 %(id)s），将于生效日办理") % {"id": order.pk}
            )
        return redirect("portal:subscriptions")
