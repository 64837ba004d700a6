"""Portal URLs (under /portal/)."""

from django.urls import path

from .views import (
    auth,
    dashboard,
    invoices,
    keys,
    messages,
    recipients,
    send,
    signatures,
    subscriptions,
    tickets,
    users,
)

app_name = "portal"

urlpatterns = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("login/", auth.PortalLoginView.as_view(), name="login"),
    path("logout/", auth.PortalLogoutView.as_view(), name="logout"),
    path("password-reset/", auth.PortalPasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth.PortalPasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.PortalPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth.PortalPasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("recipients/", recipients.RecipientListView.as_view(), name="recipients"),
    path("recipients/add/", recipients.RecipientAddView.as_view(), name="recipient_add"),
    path("recipients/import/", recipients.RecipientImportView.as_view(), name="recipient_import"),
    path("recipients/export/", recipients.RecipientExportView.as_view(), name="recipient_export"),
    path(
        "recipients/<int:pk>/opt-out/",
        recipients.RecipientOptOutView.as_view(),
        name="recipient_opt_out",
    ),
    path("signatures/", signatures.SignatureView.as_view(), name="signatures"),
    path("services/", subscriptions.SubscriptionListView.as_view(), name="subscriptions"),
    path(
        "services/<int:pk>/change/",
        subscriptions.ChangeRequestView.as_view(),
        name="change_request",
    ),
    path("tickets/", tickets.TicketListView.as_view(), name="tickets"),
    path("tickets/new/", tickets.TicketCreateView.as_view(), name="ticket_create"),
    path("tickets/<int:pk>/", tickets.TicketDetailView.as_view(), name="ticket_detail"),
    path("tickets/<int:pk>/note/", tickets.TicketNoteView.as_view(), name="ticket_note"),
    path("tickets/<int:pk>/accept/", tickets.TicketAcceptView.as_view(), name="ticket_accept"),
    path("tickets/<int:pk>/reject/", tickets.TicketRejectView.as_view(), name="ticket_reject"),
    path("invoices/", invoices.InvoiceListView.as_view(), name="invoices"),
    path("invoices/<int:pk>/", invoices.InvoiceDetailView.as_view(), name="invoice_detail"),
    path("invoices/<int:pk>/pdf/", invoices.InvoicePdfView.as_view(), name="invoice_pdf"),
    path(
        "invoices/<int:pk>/dispute/",
        invoices.InvoiceDisputeView.as_view(),
        name="invoice_dispute",
    ),
    path("users/", users.UserListView.as_view(), name="users"),
    path("users/<int:pk>/deactivate/", users.UserDeactivateView.as_view(), name="user_deactivate"),
    path("send/", send.SendView.as_view(), name="send"),
    path("send/bulk/", send.BulkSendView.as_view(), name="send_bulk"),
    path("send/<int:pk>/", send.SendProgressView.as_view(), name="send_progress"),
    path(
        "send/<int:pk>/progress.json",
        send.SendProgressJsonView.as_view(),
        name="send_progress_json",
    ),
    path("messages/", messages.MessageListView.as_view(), name="messages"),
    path("messages/export/", messages.MessageExportView.as_view(), name="message_export"),
    path("messages/<int:pk>/", messages.MessageDetailView.as_view(), name="message_detail"),
    path("replies/", messages.ReplyListView.as_view(), name="replies"),
    path("replies/export/", messages.ReplyExportView.as_view(), name="reply_export"),
    path("keys/", keys.ApiKeyListView.as_view(), name="api_keys"),
    path("keys/<int:pk>/revoke/", keys.ApiKeyRevokeView.as_view(), name="api_key_revoke"),
    path("keys/webhook/", keys.WebhookView.as_view(), name="webhook"),
    path(
        "keys/webhook/deliveries/<int:pk>/resend/",
        keys.WebhookResendView.as_view(),
        name="webhook_resend",
    ),
]
