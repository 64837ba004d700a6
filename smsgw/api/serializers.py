"""Input and output shapes of the enterprise SMS API (`/api/v1/sms/…`)."""

from django.conf import settings
from rest_framework import serializers


class SubmitInput(serializers.Serializer):
    """A submit: one number (`to`) or a batch (`recipients`, up to SMSGW_API_BATCH_LIMIT)."""

    subscriptionId = serializers.IntegerField(
        required=False, help_text="业务实例；仅一个在用业务时可省略"
    )
    to = serializers.CharField(required=False, max_length=32)
    recipients = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, allow_empty=False
    )
    text = serializers.CharField(max_length=2000, trim_whitespace=True)
    scheduledAt = serializers.DateTimeField(required=False, allow_null=True)
    extension = serializers.RegexField(r"^\d{0,8}$", required=False, allow_blank=True)
    idempotencyKey = serializers.CharField(required=False, max_length=64, allow_blank=True)

    def validate(self, attrs):
        if bool(attrs.get("to")) == bool(attrs.get("recipients")):
            raise serializers.ValidationError({"recipients": "give either `to` or `recipients`"})
        numbers = attrs.get("recipients") or [attrs["to"]]
        limit = settings.SMSGW_API_BATCH_LIMIT
        if len(numbers) > limit:
            raise serializers.ValidationError(
                {"recipients": f"at most {limit} numbers per request (got {len(numbers)})"},
                code="batch_too_large",
            )
        attrs["numbers"] = numbers
        return attrs


class WebhookInput(serializers.Serializer):
    url = serializers.URLField(max_length=300)
    sendReports = serializers.BooleanField(default=True)
    sendReplies = serializers.BooleanField(default=True)
    active = serializers.BooleanField(default=True)
    rotateSecret = serializers.BooleanField(default=False)


def request_out(progress: dict) -> dict:
    """A send request's progress as the API shows it."""
    return {
        "id": progress["id"],
        "channel": progress["channel"],
        "createdAt": progress["created_at"].isoformat(),
        "scheduledAt": progress["scheduled_at"].isoformat() if progress["scheduled_at"] else None,
        "requested": progress["requested"],
        "accepted": progress["accepted"],
        "refused": progress["refused"],
        "segmentsPerMessage": progress["segments_per_message"],
        "states": progress["states"],
        "done": progress["done"],
        "refusedRecipients": progress["refused_rows"],
    }


def message_out(message) -> dict:
    return {
        "id": message.pk,
        "requestId": message.send_request_id,
        "msisdn": message.msisdn,
        "state": message.state,
        "error": message.error,
        "createdAt": message.created_at.isoformat(),
        "submittedAt": message.submitted_at.isoformat() if message.submitted_at else None,
        "doneAt": message.done_at.isoformat() if message.done_at else None,
        "segments": [
            {
                "seq": s.seq,
                "msgId": s.msg_id,
                "state": s.state,
                "result": s.submit_result,
                "stat": s.report_stat,
            }
            for s in message.segments.all()
        ],
    }


def reply_out(reply) -> dict:
    return {
        "id": reply.pk,
        "msisdn": reply.msisdn,
        "destId": reply.dest_id,
        "extension": reply.extension,
        "department": reply.department,
        "text": reply.text,
        "receivedAt": reply.received_at.isoformat(),
    }
