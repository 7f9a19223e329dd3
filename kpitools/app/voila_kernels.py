"""The workshop app's kernel manager for Voilà: culls only kernels a page has left.

Voilà's culling (jupyter_server's) shuts down a kernel that has been idle ``cull_idle_timeout``
seconds with no browser connected. A kernel from the pre-run pool has been idle since it ran
its notebook, so when a page takes it, it could be culled in the seconds before the page's
browser connects, leaving the page without widgets (seen at once with a 20 s timeout). This
manager culls a kernel only after a browser has connected to it at least once (so its page was
open and has gone), or when no browser has come for :data:`ABANDONED_S` seconds since culling
first looked at it (a page request given up half-way).

Copied beside Voilà's other start-up files and loaded by Voilà under the module name
``kpitools_voila_kernels``, so Voilà does not import kpitools (pandas) itself.
"""

from __future__ import annotations

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


class WorkshopKernelManager(AsyncMappingKernelManager):
    """Culls a kernel only once its page has been connected and gone, or was never opened."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._connected_once: set[str] = set()
        self._first_looked: dict[str, float] = {}

    def notify_connect(self, kernel_id):
        self._connected_once.add(kernel_id)
        return super().notify_connect(kernel_id)

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
