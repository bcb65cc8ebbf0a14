"""Records every network destination a Python process asks for, for the test that the server stays local.

Put this folder on PYTHONPATH and name a log file in OUTBOUND_LOG: Python imports `sitecustomize` at start-up,
and the audit hook below writes one JSON line per socket event (connect, name lookup, datagram send, bind) with
the process id. Child processes inherit both variables, so their requests are recorded too. It only records:
nothing is blocked, so the test sees what the server really does.
"""

import json
import os
import sys

_LOG = os.environ.get("OUTBOUND_LOG")
_EVENTS = {
    "socket.connect": 1,  # (socket, address)
    "socket.sendto": 1,  # (socket, address)
    "socket.sendmsg": 1,  # (socket, address)
    "socket.bind": 1,  # (socket, address)
    "socket.getaddrinfo": 0,  # (host, port, family, type, protocol)
    "socket.gethostbyname": 0,  # (name,)
    "socket.gethostbyname_ex": 0,
    "socket.gethostbyaddr": 0,
}


def _record(event: str, args: tuple) -> None:
    """Append the event's destination to the log; other audit events cost one dictionary lookup."""
    position = _EVENTS.get(event)
    if position is None:
        return
    target = args[position] if len(args) > position else None
    if isinstance(target, tuple):
        target = list(target[:2])
    elif isinstance(target, bytes):
        target = target.decode("utf-8", "replace")
    line = json.dumps({"pid": os.getpid(), "event": event, "target": target}, default=repr)
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(line + "\n")


if _LOG:
    sys.addaudithook(_record)
