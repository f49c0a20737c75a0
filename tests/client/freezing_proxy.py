"""A TCP proxy on loopback, in the test's event loop, that can freeze one of
its connections: nothing crosses it either way until it is thawed, and no
error is seen by either end, as with a stalled NAT, load balancer or link.
Bytes sent meanwhile wait (in the kernel, or here) and arrive late."""

import asyncio


class _Link:
    def __init__(self):
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.tasks = []


class FreezingProxy:
    host = "127.0.0.1"

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.links = []  # in the order the connections were accepted
        self._server = None
        self.port = None

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    async def start(self):
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def wait_for_links(self, count, timeout=10.0):
        """Until at least `count` connections have been accepted."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.links) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(self.links)} connections through the proxy, not {count}")
            await asyncio.sleep(0.02)

    def refuse_new(self):
        """Accept no more connections; those accepted go on."""
        self._server.close()

    def freeze(self, index):
        self.links[index].flowing.clear()

    def thaw(self, index):
        self.links[index].flowing.set()

    async def close(self):
        if self._server:
            self._server.close()
        for link in self.links:
            link.flowing.set()
            for task in link.tasks:
                task.cancel()
        for link in self.links:
            await asyncio.gather(*link.tasks, return_exceptions=True)

    async def _accept(self, client_reader, client_writer):
        link = _Link()
        self.links.append(link)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        link.tasks = [
            asyncio.create_task(self._pump(client_reader, upstream_writer, link)),
            asyncio.create_task(self._pump(upstream_reader, client_writer, link)),
        ]

    @staticmethod
    async def _pump(reader, writer, link):
        try:
            while True:
                await link.flowing.wait()
                data = await reader.read(65536)
                # What arrived while frozen is held until the thaw.
                await link.flowing.wait()
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
