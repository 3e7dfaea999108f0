"""The linear probe's LARS: MAE's rule on timm's ``Lars``, checked against the update it must make."""
import torch
from torch import nn

from eva.cls import ProbeLars


def _step(optimizer_cls, **kwargs):
    torch.manual_seed(0)
    head = nn.Linear(16, 4)
    w0, b0 = head.weight.detach().clone(), head.bias.detach().clone()
    grad_w, grad_b = torch.randn(4, 16), torch.randn(4)
    head.weight.grad, head.bias.grad = grad_w.clone(), grad_b.clone()
    optimizer_cls(head.parameters(), lr=1.0, momentum=0.9, weight_decay=0.0, **kwargs).step()
    return head.weight.detach() - w0, head.bias.detach() - b0, w0, grad_w, grad_b


def test_weights_take_the_trust_ratio_without_weight_decay():
    dw, db, w0, grad_w, grad_b = _step(ProbeLars)
    # first step: momentum buffer = trust-scaled gradient, so the step is lr * 0.001 * |w| / |g| * g
    torch.testing.assert_close(dw, -1e-3 * w0.norm() / grad_w.norm() * grad_w)
    torch.testing.assert_close(db, -grad_b)  # the bias steps as SGD


def test_timm_lars_alone_would_be_plain_sgd():
    from timm.optim import Lars

    dw, _, w0, grad_w, _ = _step(Lars)
    torch.testing.assert_close(dw, -grad_w)  # ~1000x the probe's step: why ProbeLars exists
    assert dw.norm() > 100 * _step(ProbeLars)[0].norm()


def test_groups_keep_their_settings_when_split():
    head = nn.Linear(8, 2)
    opt = ProbeLars([dict(params=list(head.parameters()), lr_scale=0.5, weight_decay=0.05)], lr=1.0)
    (matrices, vectors) = opt.param_groups
    assert matrices["always_adapt"] and matrices["weight_decay"] == 0.05 and matrices["lr_scale"] == 0.5
    assert not vectors["always_adapt"] and vectors["weight_decay"] == 0.0
    assert [p.ndim for p in matrices["params"]] == [2] and [p.ndim for p in vectors["params"]] == [1]
