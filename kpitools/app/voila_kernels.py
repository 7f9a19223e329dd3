"""The workshop app's kernel manager for Voilà: shuts down kernels a page has left.

Voilà's culling (jupyter_server's) shuts down a kernel that has been idle ``cull_idle_timeout``
seconds with no browser connected. A kernel from the pre-run pool has been idle since it ran
its notebook, so when a page takes it, it could be culled in the seconds before the page's
browser connects, leaving the page without widgets (seen at once with a 20 s timeout). This
manager culls a kernel only after a browser has connected to it at least once (so its page was
open and has gone), or when no browser has come for :data:`ABANDONED_S` seconds since culling
first looked at it (a page request given up half-way). And it does not wait for culling when
the last page connected to a kernel goes: the kernel is shut down
:data:`CLOSED_PAGE_GRACE_S` seconds later, unless a page has connected again.

Copied beside Voilà's other start-up files and loaded by Voilà under the module name
``kpitools_voila_kernels``, so Voilà does not import kpitools (pandas) itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

try:  # kernels forked from the app's fork server (kpitools._forkkernel, copied beside us)
    import kpitools_forkkernel
except ImportError:  # pragma: no cover - started without the copy: kernels start as usual
    pass
else:
    kpitools_forkkernel.register_provisioner("kpitools_forkkernel")

#: Seconds a kernel that no browser ever connected to is kept before it may be culled.
ABANDONED_S = 600.0
#: Seconds a kernel is kept after the last page connected to it has gone (a brief network
#: blip reconnects within this; a closed page, or one left for another notebook, does not).
CLOSED_PAGE_GRACE_S = 5.0


class WorkshopKernelManager(AsyncMappingKernelManager):
    """Culls a kernel only once its page has been connected and gone, or was never opened."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._connected_once: set[str] = set()
        self._first_looked: dict[str, float] = {}

    def notify_connect(self, kernel_id):
        self._connected_once.add(kernel_id)
        return super().notify_connect(kernel_id)

    def notify_disconnect(self, kernel_id):
        """When a kernel's last page has gone, shut it down after a short grace: a visitor
        moving from notebook to notebook would otherwise leave a kernel per page until the
        idle culling found them (a minute later), and memory would grow with every click."""
        result = super().notify_disconnect(kernel_id)
        if kernel_id in self._connected_once and not self._kernel_connections.get(kernel_id):
            asyncio.get_running_loop().call_later(
                CLOSED_PAGE_GRACE_S,
                lambda: asyncio.ensure_future(self._shut_down_if_left(kernel_id)))
        return result

    async def _shut_down_if_left(self, kernel_id):
        if kernel_id in self and not self._kernel_connections.get(kernel_id):
            self.log.info("Kernel %s: its page has gone; shutting it down", kernel_id)
            with contextlib.suppress(Exception):  # already stopping, or gone
                await self.shutdown_kernel(kernel_id)

    async def cull_kernel_if_idle(self, kernel_id):
        if kernel_id not in self._connected_once:
            first = self._first_looked.setdefault(kernel_id, time.monotonic())
            if time.monotonic() - first < ABANDONED_S:
                return None
        return await super().cull_kernel_if_idle(kernel_id)

    def remove_kernel(self, kernel_id):
        self._connected_once.discard(kernel_id)
        self._first_looked.pop(kernel_id, None)
        return super().remove_kernel(kernel_id)
