"""The enterprise SMS API under /api/ (see smsgw/api/views.py and docs/smsgw.md)."""

from django.urls import path

from . import views

app_name = "smsgw_api"

urlpatterns = [
    path("v1/sms/requests", views.SubmitView.as_view(), name="requests"),
    path("v1/sms/messages", views.MessageListView.as_view(), name="messages"),
    path("v1/sms/messages/<int:pk>", views.MessageDetailView.as_view(), name="message"),
    path("v1/sms/requests/<int:pk>", views.RequestView.as_view(), name="request"),
    path("v1/sms/replies", views.ReplyListView.as_view(), name="replies"),
    path("v1/sms/webhook", views.WebhookView.as_view(), name="webhook"),
]
