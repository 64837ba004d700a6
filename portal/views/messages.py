"""Messages sent and replies received: search, detail with segments, export, MO inbox.

Numbers are the enterprise's own data and shown in full to its users; nothing here
logs them.
"""

import tablib
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView, View

from portal.access import PortalMixin
from portal.forms import MessageSearchForm, ReplySearchForm
from smsgw import selectors as sms_selectors
from smsgw.models import Message, MessageState

EXPORT_LIMIT = 100_000


class _MessageFilterMixin(PortalMixin):
    def search_form(self) -> MessageSearchForm:
        return MessageSearchForm(self.request.GET or None, states=MessageState.choices)

    def filtered(self):
        form = self.search_form()
        filters = form.cleaned_data if form.is_valid() else {}
        send_request = self.request.GET.get("send_request", "")
        return sms_selectors.messages_of_enterprise(
            self.enterprise.pk,
            msisdn=filters.get("msisdn") or None,
            date_from=filters.get("date_from"),
            date_to=filters.get("date_to"),
            state=filters.get("state") or None,
            send_request_id=int(send_request) if send_request.isdigit() else None,
        )


class MessageListView(_MessageFilterMixin, ListView):
    template_name = "portal/messages/list.html"
    context_object_name = "messages_page"
    paginate_by = 50

    def get_queryset(self):
        return self.filtered()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["search"] = (
            self.search_form()
            if self.request.GET
            else MessageSearchForm(states=MessageState.choices)
        )
        context["query"] = self.request.GET.urlencode()
        return context


class MessageDetailView(PortalMixin, DetailView):
    """One message: its text, every segment with its Msg_Id and delivery report."""

    template_name = "portal/messages/detail.html"
    context_object_name = "message"

    def get_object(self, queryset=None):
        try:
            return sms_selectors.message_detail(
                message_id=self.kwargs["pk"], enterprise_id=self.enterprise.pk
            )
        except Message.DoesNotExist as exc:
            raise Http404 from exc


class MessageExportView(_MessageFilterMixin, View):
    """The filtered messages as CSV or XLSX (at most EXPORT_LIMIT rows)."""

    def get(self, request):
        file_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
        dataset = tablib.Dataset(
            headers=[
                _("编号"),
                _("手机号码"),
                _("状态"),
                _("拆分条数"),
                _("受理时间"),
                _("提交时间"),
                _("完成时间"),
                _("发送请求"),
                _("短信内容"),
                _("错误"),
            ]
        )
        tz = timezone.get_default_timezone()
        for message in self.filtered()[:EXPORT_LIMIT]:
            dataset.append(
                [
                    message.pk,
                    message.msisdn,
                    message.get_state_display(),
                    message.segments_total,
                    _local(message.created_at, tz),
                    _local(message.submitted_at, tz),
                    _local(message.done_at, tz),
                    message.send_request_id,
                    message.send_request.content,
                    message.error,
                ]
            )
        return _download(dataset, "messages", file_format)


class ReplyListView(PortalMixin, ListView):
    """Replies (MO) to the enterprise's service codes, newest first."""

    template_name = "portal/messages/replies.html"
    context_object_name = "replies"
    paginate_by = 50

    def get_queryset(self):
        return _replies(self.enterprise.pk, self.search_form())

    def search_form(self) -> ReplySearchForm:
        return ReplySearchForm(self.request.GET or None)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["search"] = self.search_form() if self.request.GET else ReplySearchForm()
        context["query"] = self.request.GET.urlencode()
        return context


def _replies(enterprise_id: int, form: ReplySearchForm):
    filters = form.cleaned_data if form.is_valid() else {}
    return sms_selectors.replies_of_enterprise(
        enterprise_id,
        msisdn=(filters.get("msisdn") or "").strip() or None,
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )


class ReplyExportView(PortalMixin, View):
    def get(self, request):
        file_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
        dataset = tablib.Dataset(
            headers=[_("接收时间"), _("手机号码"), _("接收号码"), _("部门"), _("内容")]
        )
        tz = timezone.get_default_timezone()
        form = ReplySearchForm(request.GET or None)
        for reply in _replies(self.enterprise.pk, form)[:EXPORT_LIMIT]:
            dataset.append(
                [
                    _local(reply.received_at, tz),
                    reply.msisdn,
                    reply.dest_id,
                    reply.department,
                    reply.text,
                ]
            )
        return _download(dataset, "replies", file_format)


def _local(value, tz) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _download(dataset: tablib.Dataset, name: str, file_format: str) -> HttpResponse:
    if file_format == "xlsx":
        content = dataset.export("xlsx")
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content = "\ufeff" + dataset.export("csv")
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response
