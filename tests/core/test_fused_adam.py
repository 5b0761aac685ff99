import torch

from vae_studio.core import ModelConfig, build_model
from vae_studio.core.fused_adam import FusedAdamStep


def _pair():
    torch.manual_seed(0)
    a = build_model(ModelConfig(latent_dim=4, hidden=(16,), image_shape=(1, 8, 8)))
    b = build_model(ModelConfig(latent_dim=4, hidden=(16,), image_shape=(1, 8, 8)))
    b.load_state_dict(a.state_dict())
    return a, b


def test_same_update_as_torch_adam_bit_for_bit():
    ref_model, fast_model = _pair()
    ref = torch.optim.Adam(ref_model.parameters(), lr=1e-2, fused=True)
    opt = torch.optim.Adam(fast_model.parameters(), lr=1e-2, fused=True)
    fast = FusedAdamStep(opt)
    x = torch.rand(32, 1, 8, 8)
    for i in range(12):
        if i == 6:  # a learning-rate change mid-run is picked up
            for o in (ref, opt):
                o.param_groups[0]["lr"] = 3e-3
        for model, step in ((ref_model, ref.step), (fast_model, fast.step)):
            torch.manual_seed(i)
            logits, mu, logvar = model(x)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, x) + mu.pow(2).mean() + logvar.exp().mean()
            model.zero_grad(set_to_none=True)
            loss.backward()
            step()
    assert fast._lists is not None  # the direct kernel call was used after the first step
    for p, q in zip(ref_model.parameters(), fast_model.parameters()):
        assert torch.equal(p, q)
    for p, q in zip(ref_model.parameters(), fast_model.parameters()):
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(ref.state[p][key], opt.state[q][key])


def test_falls_back_to_the_optimizer_where_it_does_not_apply():
    model, _ = _pair()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=0.1)
    fast = FusedAdamStep(opt)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    before = [p.detach().clone() for p in model.parameters()]
    fast.step()
    fast.step()
    assert fast._lists is None
    assert all(not torch.equal(a, p) for a, p in zip(before, model.parameters()))
    assert all(int(opt.state[p]["step"]) == 2 for p in model.parameters())
