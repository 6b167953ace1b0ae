"""A small AGT client: log on, join a job, get ready, then leave and log off.

Run it against `make run` (the demo server):

    .venv/bin/python examples/agent_session.py                       # wire port 22700, agent1
    .venv/bin/python examples/agent_session.py --tls --port 22701    # the same over TLS
    .venv/bin/python examples/agent_session.py --agent agent7 --job CMP2

It prints every step and the server's answers, so it doubles as a walk-through of the agent API.  Once
ready it waits (``--wait``, 15 s) for a call from the dialer, takes it and finishes the record.
"""

from __future__ import annotations

import argparse
import logging
import ssl

import structlog
import trio

from agt_server.client import AgtClient, AgtCommandError, open_agt_client


async def walk_through(client: AgtClient, agent: str, password: str, job: str, wait: float) -> None:
    """The typical PC log-in and log-out sequences (reference §2.4)."""
    print("greeting:", "|".join(client.greeting.segments))
    await client.logon(agent, password)
    print(f"logged on as {agent}")
    await client.reserve_headset("1" + agent.removeprefix("agent").rjust(4, "0"))
    await client.connect_headset()
    print("jobs:", ", ".join(f"{job.name} ({job.type}, {'running' if job.active else 'inactive'})"
                              for job in await client.list_jobs("A")))
    await client.set_work_class("O")
    await client.attach_job(job)
    fields = await client.list_data_fields("O")
    print(f"{job} fields:", ", ".join(field.name for field in fields))
    await client.set_notify_key_field("O", fields[0].name)
    for field in fields[1:3]:
        await client.set_data_field("O", field.name)
    await client.avail_work()
    await client.ready_next_item()
    print("state:", (await client.list_state()).code)
    with trio.move_on_after(wait):
        call = await client.next_notification("AGTCallNotify")
        print("call:", " | ".join(call.records))
        await trio.sleep(1)  # talk
        await client.release_line()
        code = (await client.list_keys())[0].code
        await client.finished_item(code)
        print(f"finished the record with completion code {code}")
    await client.no_further_work()
    await client.detach_job()
    await client.disconnect_headset()
    await client.free_headset()
    await client.logoff()
    print("logged off; the server closed the connection")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=22700)
    parser.add_argument("--tls", action="store_true", help="speak TLS (the demo's certificate is self-signed)")
    parser.add_argument("--agent", default="agent1")
    parser.add_argument("--password", help="default: the agent's name (the demo's passwords)")
    parser.add_argument("--job", default="CMP1")
    parser.add_argument("--wait", type=float, default=15.0, help="seconds to wait for a call once ready")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    context = None
    if args.tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the demo certificate is self-signed
    async with open_agt_client(args.host, args.port, ssl_context=context) as client:
        try:
            await walk_through(client, args.agent, args.password or args.agent, args.job, args.wait)
        except AgtCommandError as exc:
            print("refused:", exc)


if __name__ == "__main__":
    trio.run(main)
