"""Worker: HTTP viewers of the API benchmark, a process apart from the server's.

One thread per viewer, each with its own keep-alive connection and its own tokens,
reading its sessions one after another; all start together. Reports every request's
latency (send to last body byte) and any request that did not answer 200.
"""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit

from benchmarks.procs import emit, worker_args


def main() -> None:
    args = worker_args()
    where = urlsplit(args["url"])
    viewers: list[list[list[str]]] = args["viewers"]
    start = threading.Barrier(len(viewers))
    seconds: list[float] = []
    failed: list[str] = []
    lock = threading.Lock()

    def viewer(reads: list[list[str]]) -> None:
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
        mine: list[float] = []
        bad: list[str] = []
        start.wait()
        for sid, token in reads:
            began = time.perf_counter()
            connection.request(
                "GET", f"/v1/sessions/{sid}/trail", headers={"Authorization": f"Bearer {token}"}
            )
            response = connection.getresponse()
            body = response.read()
            mine.append(time.perf_counter() - began)
            if response.status != 200:
                bad.append(f"{sid}: {response.status} {body[:200]!r}")
        connection.close()
        with lock:
            seconds.extend(mine)
            failed.extend(bad)

    threads = [threading.Thread(target=viewer, args=(v,)) for v in viewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    emit("result", seconds=seconds, failed=failed)


if __name__ == "__main__":
    main()
