"""Adam's fused kernel without ``torch.optim``'s per-step Python bookkeeping.

``torch.optim.Adam(fused=True)`` runs the update as one kernel, but before it, every step, it
walks the parameters in Python and regroups them by device and dtype: about 0.1 ms on a CPU, a
few per cent of an MLP step on the digits. :class:`FusedAdamStep` collects the tensor lists once
and then calls the same kernel directly, so the update is bit-for-bit the one ``optimizer.step()``
makes (a core test compares them). Whatever it was not built for goes through ``optimizer.step()``.
"""

from __future__ import annotations

import torch

_KERNEL = getattr(torch, "_fused_adam_", None)
_KERNEL_W = getattr(torch, "_fused_adamw_", None)  # decoupled weight decay (AdamW)


def _decoupled(group: dict) -> bool:
    return bool(group.get("decoupled_weight_decay"))


class FusedAdamStep:
    def __init__(self, optimizer: torch.optim.Optimizer):
        self.optimizer = optimizer
        self._lists: tuple | None = None

    def invalidate(self) -> None:
        """Call after the optimizer state was replaced or cleared."""
        self._lists = None

    def step(self) -> None:
        lists = self._lists
        if lists is not None:
            params, exp_avgs, exp_avg_sqs, steps, group = lists
            grads = [p.grad for p in params]
            if all(g is not None for g in grads):
                beta1, beta2 = group["betas"]
                torch._foreach_add_(steps, 1)
                wd = group["weight_decay"]
                kernel = _KERNEL_W if wd and _decoupled(group) else _KERNEL
                kernel(params, grads, exp_avgs, exp_avg_sqs, [], steps, lr=group["lr"], beta1=beta1, beta2=beta2,
                       weight_decay=wd, eps=group["eps"], amsgrad=False, maximize=False)
                return
        self.optimizer.step()
        self._lists = self._collect()

    def _collect(self) -> tuple | None:
        """The kernel's tensor lists, or None where the plain step must be used."""
        opt = self.optimizer
        if _KERNEL is None or not isinstance(opt, torch.optim.Adam) or len(opt.param_groups) != 1:
            return None
        group = opt.param_groups[0]
        if not group.get("fused") or group.get("amsgrad") or group.get("maximize"):
            return None
        if group.get("weight_decay") and not (_decoupled(group) and _KERNEL_W is not None):
            return None  # Adam's coupled L2 decay: left to the optimizer
        if group.get("capturable") or group.get("differentiable"):
            return None
        if not all(isinstance(v, float) for v in (group["lr"], group["eps"], *group["betas"])):
            return None
        params = list(group["params"])
        if not params:
            return None
        device, dtype = params[0].device, params[0].dtype
        exp_avgs, exp_avg_sqs, steps = [], [], []
        for p in params:
            st = opt.state.get(p)
            if p.device != device or p.dtype != dtype or p.grad is None or p.grad.is_sparse or not st:
                return None
            step = st.get("step")
            if not (torch.is_tensor(step) and step.device == device):
                return None
            exp_avgs.append(st["exp_avg"])
            exp_avg_sqs.append(st["exp_avg_sq"])
            steps.append(step)
        return params, exp_avgs, exp_avg_sqs, steps, group
