"""An async (trio) client for the AGT agent protocol (Avaya Proactive Contact / POM Agent API).

One :class:`AgtClient` is one agent session.  Open one with :func:`open_agt_client` (TCP or TLS) or
run one over any trio stream with :func:`agt_client_over` (tests use memory streams)::

    async with open_agt_client("127.0.0.1", 22700) as client:
        await client.login_sequence("agent07", "s3cret")
        jobs = await client.list_jobs()
        await client.join(jobs[0].name)
        await client.ready_next_item()
        call = await client.next_notification("AGTCallNotify")

Commands may run concurrently from several tasks; replies are matched by invoke id.  Notifications
are assembled from their ``N`` messages and queued in :attr:`AgtClient.notifications`.

Everything in ``__all__`` is the public API of ``agt_server.client``.
"""

from ._client import (
    DEFAULT_API_VERSION,
    DEFAULT_CLIENT_NAME,
    GET_PREFERRED_JOB_LIST,
    SET_PREFERRED_JOB_LIST,
    AgtClient,
    agt_client_over,
    open_agt_client,
)
from ._errors import AgtClientError, AgtCommandError, AgtConnectionClosed, AgtConnectionError, AgtUnexpectedReply
from ._events import Notification, Reply
from ._notifications import DEFAULT_NOTIFICATION_CAPACITY, NotificationAssembler, NotificationQueue
from ._records import AgentStateReport, CallbackFormat, FieldListing, JobListing, KeyListing

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_CLIENT_NAME",
    "DEFAULT_NOTIFICATION_CAPACITY",
    "GET_PREFERRED_JOB_LIST",
    "SET_PREFERRED_JOB_LIST",
    "AgentStateReport",
    "AgtClient",
    "AgtClientError",
    "AgtCommandError",
    "AgtConnectionClosed",
    "AgtConnectionError",
    "AgtUnexpectedReply",
    "CallbackFormat",
    "FieldListing",
    "JobListing",
    "KeyListing",
    "Notification",
    "NotificationAssembler",
    "NotificationQueue",
    "Reply",
    "agt_client_over",
    "open_agt_client",
]
