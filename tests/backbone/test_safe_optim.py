"""SafeOptimWrapper: a non-finite micro-batch spoils its accumulation window, nothing else."""
import pytest
import torch

mm = pytest.importorskip("eva.backbone.mm", reason="mmengine is not installed")


def _wrapper(model, accum):
    return mm.SafeOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), accumulative_counts=accum,
                               max_bad_steps=3)


def test_nan_micro_batch_skips_the_whole_window():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = _wrapper(model, accum=2)
    opt.initialize_count_status(model, 0, 4)
    x = torch.randn(8, 4)
    start = model.weight.detach().clone()
    opt.update_params(model(x[:4]).mean())                   # good micro-batch
    opt.update_params(model(x[4:]).mean() * float("nan"))    # bad one: window skipped
    torch.testing.assert_close(model.weight, start)
    assert opt.skipped_steps == 1 and all(p.grad is None or not p.grad.any() for p in model.parameters())
    opt.update_params(model(x[:4]).mean())
    opt.update_params(model(x[4:]).mean())                   # a clean window steps normally
    assert not torch.equal(model.weight, start) and opt.consecutive_bad == 0


def test_overflowing_steps_are_skipped_and_repeated_failure_stops():
    model = torch.nn.Linear(4, 1)
    opt = _wrapper(model, accum=1)
    opt.initialize_count_status(model, 0, 10)
    start = model.weight.detach().clone()
    for _ in range(2):
        opt.update_params((model(torch.randn(2, 4)) * 1e39).sum())  # overflows float32 to inf
    torch.testing.assert_close(model.weight, start)
    with pytest.raises(mm.NonFiniteError, match="3 consecutive steps"):
        opt.update_params((model(torch.randn(2, 4)) * 1e39).sum())


def test_clipping_scales_the_whole_gradient_to_max_norm():
    """Clipping really clips the step to ``max_norm`` and equals mmengine's own ``OptimWrapper``."""
    from mmengine.optim import OptimWrapper

    x, y = torch.randn(8, 4), torch.randn(8, 2)
    updates = []
    for cls in (mm.SafeOptimWrapper, OptimWrapper):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 2)
        opt = cls(optimizer=torch.optim.SGD(model.parameters(), lr=1.0), clip_grad=dict(max_norm=0.05))
        start = [p.detach().clone() for p in model.parameters()]
        loss = ((model(x) - y) ** 2).mean()
        grads = torch.autograd.grad(loss, list(model.parameters()), retain_graph=True)
        norm = torch.linalg.vector_norm(torch.cat([g.flatten() for g in grads]))
        assert norm > 0.5  # far above max_norm: the step must be scaled
        opt.update_params(loss)
        updates.append([p.detach() - s for p, s in zip(model.parameters(), start)])
        for step, g in zip(updates[-1], grads):
            torch.testing.assert_close(step, -g * 0.05 / (norm + 1e-6), rtol=1e-4, atol=1e-7)
    for ours, peer in zip(*updates):
        torch.testing.assert_close(ours, peer)
