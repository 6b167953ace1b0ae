"""The command table: every command of the PC 5.2 Agent API (and our POM extensions) with its
argument counts and reply pattern.

The session state machine (``agt_server.engine``) decides what a command *does*; this table only says
what a well-formed command looks like, so that argument-count errors (``E70000``) and unknown keywords
(``E28865``) are answered the same way for every command.

``pending`` marks the commands that real servers answer with ``P 0 S28833`` before their final ``R``
(the PC logs show it for these).  Quick commands get no ``P``: older Go clients treat one as an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = ["COMMANDS", "POM_EXTENSIONS", "CommandSpec"]


@attrs.frozen
class CommandSpec:
    """What a well-formed command looks like.

    Attributes:
        keyword: the command's keyword.
        min_args: the fewest data segments it takes.
        max_args: the most data segments it takes.
        pending: answered with ``P 0 S28833`` before its final ``R`` when it succeeds.
        summary: one line saying what it does.
    """

    keyword: str
    min_args: int
    max_args: int
    pending: bool
    summary: str


def _table(*specs: tuple[str, int, int, bool, str]) -> Mapping[str, CommandSpec]:
    return MappingProxyType({spec[0]: CommandSpec(*spec) for spec in specs})


COMMANDS = _table(
    # connection
    ("AGTLogon", 2, 3, True, "log on: agent name, password[, API version]"),
    ("AGTLogoff", 0, 0, False, "log off and close the session"),
    ("AGTReserveHeadset", 1, 1, True, "reserve a headset by id"),
    ("AGTConnHeadset", 0, 0, True, "connect the reserved headset"),
    ("AGTDisconnHeadset", 0, 0, True, "disconnect the headset"),
    ("AGTFreeHeadset", 0, 0, False, "release the headset reservation"),
    ("AGTLogonAcd", 1, 2, True, "log on to the ACD: extension[, PBX id]"),
    ("AGTLogoffAcd", 0, 0, True, "log off the ACD"),
    # system
    ("AGTListJobs", 1, 1, False, "list the jobs applicable to the agent: type A, I, B, M or O"),
    ("AGTAttachJob", 1, 1, False, "attach a running job"),
    ("AGTDetachJob", 0, 0, False, "detach the attached job"),
    ("AGTSetWorkClass", 1, 1, False, "set the work class: O, I, B, P or M"),
    ("AGTListState", 0, 0, False, "report the agent state"),
    ("AGTListCallLists", 0, 0, False, "list the calling lists"),
    ("AGTListCallFields", 1, 1, False, "list a calling list's fields"),
    ("AGTListKeys", 0, 0, False, "list the attached job's completion codes"),
    ("AGTListScreens", 1, 1, False, "list agent screens for a list type"),
    ("AGTGetScreen", 1, 1, False, "get an agent screen's layout"),
    ("AGTSendMessage", 1, 1, False, "send a text message to the supervisors"),
    ("AGTSetPassword", 3, 3, False, "change the password: user, old, new"),
    ("AGTDumpData", 1, 1, False, "dump the session's data to a server file"),
    ("AGTEchoOn", 0, 0, False, "echo commands (tty sessions)"),
    ("AGTEchoOff", 0, 0, False, "stop echoing commands"),
    ("AGTLogIoStart", 0, 0, False, "start the session's transaction log"),
    ("AGTLogIoStop", 0, 0, False, "stop the session's transaction log"),
    ("AGTListTenants", 0, 0, False, "list the tenants"),
    ("AGTSetTenant", 1, 1, True, "select a tenant"),
    ("AGTDialerMode", 0, 0, False, "report the dialer mode"),
    # job set-up
    ("AGTListDataFields", 1, 1, False, "list the attached job's fields for list type I or O"),
    ("AGTSetNotifyKeyField", 2, 2, False, "choose the key field sent with each call"),
    ("AGTSetDataField", 2, 2, False, "add a field to those sent with each call"),
    ("AGTClearDataSet", 1, 1, False, "clear the fields sent with each call"),
    ("AGTListUnits", 0, 0, False, "list the units of a unit-work-list job"),
    ("AGTSetUnit", 1, 1, False, "select the unit(s) to work"),
    ("AGTListCallbackFmt", 0, 0, False, "report the callback date format and phone count"),
    ("AGTAvailWork", 0, 0, True, "join the attached job: become available for work"),
    # working
    ("AGTReadyNextItem", 0, 0, False, "ask for the next record or call"),
    ("AGTFinishedItem", 1, 1, False, "finish the record with a completion code"),
    ("AGTReleaseLine", 0, 2, True, "hang up, keep the record open: [script label] or '', message number"),
    ("AGTNoFurtherWork", 0, 0, True, "stop taking work; the final reply comes when off the job"),
    ("AGTManagedCall", 0, 0, True, "dial the previewed record"),
    ("AGTHangupCall", 0, 0, False, "hang up the customer, keep the line"),
    ("AGTHoldCall", 0, 0, False, "put the customer on hold"),
    ("AGTUnholdCall", 0, 0, False, "take the customer off hold"),
    ("AGTManualCall", 1, 1, False, "dial a number on the open line"),
    ("AGTManualPhone", 1, 1, False, "format a number for third-party dialing"),
    ("AGTDialDigit", 1, 1, False, "send a DTMF digit"),
    ("AGTHookflashLine", 0, 1, False, "hookflash: transfer to a number, or conference when empty"),
    ("AGTTransferCall", 0, 1, False, "trunk-to-trunk transfer to a number, or conference when empty"),
    ("AGTMoFlashBlind", 0, 1, True, "blind transfer to an inbound job"),
    ("AGTMoFlashSupv", 0, 1, True, "supervised transfer to an inbound job"),
    ("AGTReadField", 2, 2, False, "read a field of the open record"),
    ("AGTUpdateField", 3, 3, False, "change a field of the open record"),
    ("AGTSetCallback", 3, 5, False, "schedule a callback: date, time, phone index[, name[, number]]"),
    ("AGTDoNotCall", 0, 0, False, "mark the open record do-not-call"),
    ("AGTAdjustHeadset", 2, 2, False, "set headset volume: E or M, 1-8"),
    ("AGTGetHeadsetVol", 0, 0, False, "report headset volumes"),
    ("AGTFindFirstRecord", 1, 1, True, "preview search: first record matching a key"),
    ("AGTFindNextRecord", 0, 1, True, "preview search: next (N) or previous (P) record"),
    ("AGTCancelSearch", 0, 0, True, "cancel the preview search"),
    # POM extensions (our design; protocol_spec.md §10).  The list's own limit of 20 is checked by the
    # command, so that "too many" gets its own message rather than a bare argument-count error.
    ("AGTSetPreferredJobList", 0, 256, False, "set the preferred jobs (one per segment, 0-20; none clears)"),
    ("AGTGetPreferredJobList", 0, 0, False, "list the preferred jobs as type,name,status records"),
)

#: Keywords of the POM extensions (our design; see protocol_spec.md §10).
POM_EXTENSIONS: frozenset[str] = frozenset({"AGTSetPreferredJobList", "AGTGetPreferredJobList"})
