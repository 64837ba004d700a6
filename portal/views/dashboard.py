"""The enterprise's home page: what it has, what is waiting, what needs attention."""

from django.views.generic import TemplateView

from assurance.selectors import open_tickets_with_clocks
from billing.selectors import enterprise_statement
from core import clock
from portal.access import PortalMixin
from portal.charts import delivery_rate_svg
from portal.selectors import dashboard_summary, running_sends, sending_summary


class DashboardView(PortalMixin, TemplateView):
    template_name = "portal/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(dashboard_summary(self.enterprise))
        context["open_tickets"] = open_tickets_with_clocks(self.enterprise.pk)
        context["statement"] = enterprise_statement(self.enterprise.pk)
        sending = sending_summary(self.enterprise, today=clock.today())
        context["sending"] = sending
        context["running_sends"] = running_sends(self.enterprise)
        context["delivery_chart"] = delivery_rate_svg(sending["days"], title_id="h-delivery")
        return context
