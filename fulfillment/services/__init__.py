"""Write services of fulfillment. Other apps and the interfaces call these names.

Orders (`orders`), eligibility (`eligibility`), provisioning steps (`provisioning`),
inventory (`inventory`), subscriptions and CMPP secrets (`subscriptions`), contracts
(`contracts`). The package re-exports the public services so callers write
`from fulfillment import services; services.subscription_suspend(...)`.
"""

from .common import ProvisioningError, StepRetryError, TransientProvisioningError
from .contracts import (
    contract_expiry_warning_send,
    contract_record_non_renewal,
    contract_terminate_early,
    contract_withdraw_non_renewal,
    contracts_daily_run,
)
from .eligibility import Refusal, order_refusals
from .inventory import (
    import_report,
    mas_port_retire,
    mas_server_add_ports,
    mas_server_create,
    quarantine_release_due,
    reservations_release_expired,
    service_code_block_add,
    service_code_blocks_import,
    service_code_retire,
)
from .orders import (
    ItemRequest,
    order_abandon,
    order_cancel_request,
    order_cancel_request_unknown,
    order_cancellation_finish,
    order_create,
    order_delete,
    order_draft_update,
    order_fail,
    order_hold,
    order_override_notice_period,
    order_pend,
    order_proceed,
    order_start,
    order_submit,
    order_update_details,
    orders_start_due,
)
from .provisioning import (
    provisioning_step_give_up,
    provisioning_step_run,
    provisioning_steps_run,
)
from .subscriptions import (
    cmpp_account_reset_secret,
    cmpp_account_reveal_secret,
    subscription_resume,
    subscription_suspend,
    subscription_terminate,
)

__all__ = [
    "ItemRequest",
    "ProvisioningError",
    "Refusal",
    "StepRetryError",
    "TransientProvisioningError",
    "cmpp_account_reset_secret",
    "cmpp_account_reveal_secret",
    "contract_expiry_warning_send",
    "contract_record_non_renewal",
    "contract_terminate_early",
    "contract_withdraw_non_renewal",
    "contracts_daily_run",
    "import_report",
    "mas_port_retire",
    "mas_server_add_ports",
    "mas_server_create",
    "order_abandon",
    "order_cancel_request",
    "order_cancel_request_unknown",
    "order_cancellation_finish",
    "order_create",
    "order_delete",
    "order_draft_update",
    "order_fail",
    "order_hold",
    "order_override_notice_period",
    "order_pend",
    "order_proceed",
    "order_refusals",
    "order_start",
    "order_submit",
    "order_update_details",
    "orders_start_due",
    "provisioning_step_give_up",
    "provisioning_step_run",
    "provisioning_steps_run",
    "quarantine_release_due",
    "reservations_release_expired",
    "service_code_block_add",
    "service_code_blocks_import",
    "service_code_retire",
    "subscription_resume",
    "subscription_suspend",
    "subscription_terminate",
]
