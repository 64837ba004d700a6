"""Registered recipients (注册客户名单, 第4条): list, add, import with a row report, opt out."""

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.generic import FormView, ListView, View

from customers import services
from customers.models import RegisteredRecipient
from customers.resources import RegisteredRecipientResource
from portal.access import PortalAdminMixin, PortalMixin
from portal.forms import RecipientForm, RecipientImportForm
from portal.selectors import recipient_groups, recipients_of
from portal.uploads import read_dataset


class RecipientListView(PortalMixin, ListView):
    template_name = "portal/recipients/list.html"
    paginate_by = 50
    context_object_name = "recipients"

    def get_queryset(self):
        params = self.request.GET
        return recipients_of(
            self.enterprise,
            query=params.get("q", "").strip(),
            group=params.get("group", ""),
            status=params.get("status", ""),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["groups"] = recipient_groups(self.enterprise)
        context["filters"] = self.request.GET
        return context


class RecipientAddView(PortalAdminMixin, FormView):
    template_name = "portal/recipients/add.html"
    form_class = RecipientForm

    def form_valid(self, form):
        try:
            services.recipient_add(
                enterprise_id=self.enterprise.pk, by=self.request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("已登记号码 %(msisdn)s") % form.cleaned_data)
        return redirect("portal:recipients")


class RecipientOptOutView(PortalAdminMixin, View):
    """Record an opt-out (the number stays on the list with its history)."""

    def post(self, request, pk):
        recipient = get_object_or_404(RegisteredRecipient, pk=pk, enterprise=self.enterprise)
        services.recipient_opt_out(
            enterprise_id=self.enterprise.pk, msisdn=recipient.msisdn, by=request.user
        )
        messages.success(request, _("已登记退订：%(msisdn)s") % {"msisdn": recipient.msisdn})
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = "portal:recipients"
        return redirect(target)


def _upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "portal-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


class RecipientImportView(PortalAdminMixin, FormView):
    """Upload → preview (nothing written; every bad row listed) → confirm (all or nothing).

    The uploaded file waits under MEDIA_ROOT/portal-imports, named by a random token tied
    to the enterprise, until it is confirmed or replaced.
    """

    template_name = "portal/recipients/import.html"
    form_class = RecipientImportForm

    def _path(self, token: str) -> Path:
        try:
            uuid.UUID(token)
        except ValueError as exc:
            raise Http404 from exc
        for suffix in (".csv", ".xlsx"):
            path = _upload_dir() / f"{self.enterprise.pk}-{token}{suffix}"
            if path.exists():
                return path
        raise Http404

    def _import(self, path: Path, *, dry_run: bool):
        dataset = read_dataset(path)
        result = services.recipients_import(
            dataset=dataset, enterprise=self.enterprise, by=self.request.user, dry_run=dry_run
        )
        return dataset, result, services.recipient_import_report(result)

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        token = str(uuid.uuid4())
        suffix = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
        path = _upload_dir() / f"{self.enterprise.pk}-{token}{suffix}"
        with path.open("wb") as target:
            for chunk in upload.chunks():
                target.write(chunk)
        try:
            dataset, _result, report = self._import(path, dry_run=True)
        except Exception as exc:
            path.unlink(missing_ok=True)
            form.add_error("file", _("无法读取文件：%(error)s") % {"error": exc})
            return self.form_invalid(form)
        if report:
            path.unlink(missing_ok=True)
        return self.render_to_response(
            self.get_context_data(
                form=form, report=report, total=len(dataset), token=None if report else token
            )
        )

    def post(self, request, *args, **kwargs):
        token = request.POST.get("confirm")
        if not token:
            return super().post(request, *args, **kwargs)
        path = self._path(token)
        try:
            dataset, _result, report = self._import(path, dry_run=False)
        finally:
            path.unlink(missing_ok=True)
        if report:
            messages.error(request, _("导入未完成：文件中有错误，未写入任何号码"))
            return self.render_to_response(
                self.get_context_data(
                    form=self.get_form_class()(), report=report, total=len(dataset)
                )
            )
        messages.success(request, _("已导入 %(n)d 个号码") % {"n": len(dataset)})
        return redirect("portal:recipients")


class RecipientExportView(PortalMixin, View):
    """The enterprise's list as CSV or XLSX (the same columns the import reads)."""

    def get(self, request):
        file_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
        queryset = RegisteredRecipient.objects.filter(enterprise=self.enterprise).order_by("msisdn")
        dataset = RegisteredRecipientResource(enterprise=self.enterprise).export(queryset)
        del dataset["统一社会信用代码"]
        if file_format == "xlsx":
            content = dataset.export("xlsx")
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            content = "\ufeff" + dataset.export("csv")
            content_type = "text/csv; charset=utf-8"
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="recipients.{file_format}"'
        return response
