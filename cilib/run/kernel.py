"""A Jupyter kernel manager for batch runs that encrypts kernel transport.

ipykernel 7 warns at every kernel start that messages between the client and the kernel travel
unencrypted over TCP. Asking the manager to provision CurveZMQ keys (``transport_encryption =
"auto"``, when pyzmq supports Curve) removes the warning at its cause instead of filtering it.
"""

from __future__ import annotations

import zmq
from jupyter_client.manager import AsyncKernelManager


class QuietKernelManager(AsyncKernelManager):
    """AsyncKernelManager that provisions CurveZMQ transport encryption when available."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if zmq.has("curve"):
            self.transport_encryption = "auto"
