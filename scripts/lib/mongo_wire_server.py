"""A MongoDB wire-protocol server for snapmask's tests (stand-in for DocumentDB).

Runs mongoeco's wire proxy on loopback until SIGTERM/SIGINT. Prints one line starting
with "listening" once clients can connect; scripts/services waits for it.

    python mongo_wire_server.py --port 57017
"""

import argparse
import asyncio
import signal
import sys

from mongoeco.wire import AsyncMongoEcoProxyServer


async def serve(port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncMongoEcoProxyServer(port=port) as srv:
        print("listening", srv.address.uri, flush=True)
        await stop.wait()
    print("stopped", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
