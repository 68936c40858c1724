"""A local SMTP sink for the broadcast benchmark: accepts everything, counts.

Run as ``python bench/smtp_sink.py PORT REPORT``; on SIGTERM it writes a JSON
report (messages, distinct recipients, the most copies any one got).
"""

import json
import signal
import sys
import threading
from collections import Counter

from aiosmtpd.controller import Controller


class Sink:
    """Counts every recipient of every message."""

    def __init__(self):
        self.copies: Counter[str] = Counter()
        self.messages = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        """Accept the message and count its recipients."""
        self.messages += 1
        self.copies.update(envelope.rcpt_tos)
        return "250 OK"


def main() -> None:
    """Serve until SIGTERM, then write the report."""
    port, report = int(sys.argv[1]), sys.argv[2]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    controller.stop()
    with open(report, "w") as file:
        json.dump(
            {
                "messages": sink.messages,
                "recipients": len(sink.copies),
                "max_copies": max(sink.copies.values(), default=0),
            },
            file,
        )


if __name__ == "__main__":
    main()
