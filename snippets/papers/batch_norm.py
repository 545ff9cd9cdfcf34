"""Batch Normalization: Algorithm 1 (training) and Algorithm 2 (inference) by hand, against PyTorch.

For (N, C) inputs (after a fully connected layer, nn.BatchNorm1d) the statistics are taken over N;
for (N, C, H, W) inputs (after a convolution, nn.BatchNorm2d) over N, H and W, per channel (Sec. 3.2).
PyTorch normalizes with the biased batch variance but keeps running_var with the unbiased one,
and momentum=0.1 is the weight of the new batch statistic; momentum=None keeps plain averages over
all batches, which is exactly the paper's Algorithm 2. With batches of 2 the train-mode output
differs from the eval-mode output by a mean squared gap of 2 - 2 E[s_m] (closed form, checked), the
running variance is off by about 30 %, and LayerNorm, GroupNorm or frozen BN statistics avoid it;
in eval mode BN folds into the Conv2d or Linear layer before it (torch.nn.utils.fusion agrees).

Sources:
- Ioffe, Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing Internal
  Covariate Shift", ICML 2015 (arXiv:1502.03167): Algorithm 1, Algorithm 2, Sec. 3.2, Sec. 4.1
  (MNIST: 3 fully connected hidden layers of 100 sigmoid units, with and without BN)
- Wu, He, "Group Normalization", ECCV 2018 (arXiv:1803.08494): BN's error grows as the batch shrinks
- PyTorch source, torch/nn/utils/fusion.py (fuse_conv_bn_eval, fuse_linear_bn_eval)
- PyTorch docs, torch.nn.BatchNorm1d / BatchNorm2d
  (https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html)
"""

# --8<-- [start:train]
import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved


def batch_norm_train(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
    """Algorithm 1 for x of shape (N, C) or (N, C, H, W); updates the running statistics in place."""
    dims = [0] + list(range(2, x.dim()))  # every dimension but the channel
    shape = [1, -1] + [1] * (x.dim() - 2)  # broadcast per-channel values: (1, C) or (1, C, 1, 1)
    m = x.numel() // x.shape[1]  # values per channel in the mini-batch
    # mu_B = 1/m sum_i x_i
    mu = x.mean(dim=dims)  # (C,)
    # sigma_B^2 = 1/m sum_i (x_i - mu_B)^2   (biased: divides by m)
    var = ((x - mu.view(shape)) ** 2).mean(dim=dims)  # (C,)
    # x_hat_i = (x_i - mu_B) / sqrt(sigma_B^2 + eps)
    x_hat = (x - mu.view(shape)) / torch.sqrt(var.view(shape) + eps)
    # running <- (1 - momentum) * running + momentum * batch statistic; the variance unbiased: m / (m - 1)
    with torch.no_grad():
        running_mean.mul_(1 - momentum).add_(momentum * mu)
        running_var.mul_(1 - momentum).add_(momentum * var * m / (m - 1))
    # y_i = gamma * x_hat_i + beta
    return gamma.view(shape) * x_hat + beta.view(shape)


for shape, bn in [((16, 5), nn.BatchNorm1d(5)), ((8, 5, 6, 6), nn.BatchNorm2d(5))]:
    bn = bn.to(device).train()
    with torch.no_grad():  # a non-trivial scale and shift
        bn.weight.copy_(torch.rand(5, generator=gen) + 0.5)
        bn.bias.copy_(torch.randn(5, generator=gen))
    gamma = bn.weight.detach().clone().requires_grad_()
    beta = bn.bias.detach().clone().requires_grad_()
    running_mean, running_var = torch.zeros(5, device=device), torch.ones(5, device=device)  # PyTorch's start
    for step in range(5):
        x = (3 * torch.randn(*shape, generator=gen) + 2).to(device).requires_grad_()  # (N, C[, H, W])
        y_hand = batch_norm_train(x, gamma, beta, running_mean, running_var)
        y_torch = bn(x)
        torch.testing.assert_close(y_hand, y_torch)
        # the gradients agree too (autograd through the formulas vs PyTorch's kernel)
        upstream = torch.randn(*shape, generator=gen).to(device)
        g_hand = torch.autograd.grad(y_hand, (x, gamma, beta), upstream)
        g_torch = torch.autograd.grad(y_torch, (x, bn.weight, bn.bias), upstream)
        for a, b in zip(g_hand, g_torch):
            torch.testing.assert_close(a, b)
    torch.testing.assert_close(running_mean, bn.running_mean)
    torch.testing.assert_close(running_var, bn.running_var)
    assert bn.num_batches_tracked.item() == 5
    print(f"{type(bn).__name__} on {shape}: Algorithm 1 == PyTorch (output, gradients, running stats after 5 steps)")
# --8<-- [end:train]

# --8<-- [start:backward]
import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved

# The backward pass of Algorithm 1 (Sec. 3), per channel over its m values, with sigma = sqrt(sigma_B^2 + eps)
# and g = dL/dy:   dL/dx_hat = g gamma,   dL/dgamma = sum g x_hat,   dL/dbeta = sum g,
#   dL/dx_i = (1 / sigma) (dL/dx_hat_i - mean(dL/dx_hat) - x_hat_i mean(dL/dx_hat * x_hat))
# (mu and sigma_B^2 depend on every x_i: the two means are what flows back through them)
def batch_norm_backward(g, x, gamma, eps):
    dims = [0] + list(range(2, x.dim()))  # every dimension but the channel
    shape = [1, -1] + [1] * (x.dim() - 2)  # (1, C) or (1, C, 1, 1)
    mu = x.mean(dim=dims, keepdim=True)
    sigma = torch.sqrt(((x - mu) ** 2).mean(dim=dims, keepdim=True) + eps)
    x_hat = (x - mu) / sigma
    d_x_hat = g * gamma.view(shape)
    dx = (d_x_hat - d_x_hat.mean(dim=dims, keepdim=True) - x_hat * (d_x_hat * x_hat).mean(dim=dims, keepdim=True)) / sigma
    return dx, (g * x_hat).sum(dim=dims), g.sum(dim=dims)


for shape, bn in [((16, 5), nn.BatchNorm1d(5)), ((8, 5, 6, 6), nn.BatchNorm2d(5))]:
    bn = bn.double().to(device).train()
    with torch.no_grad():
        bn.weight.copy_(torch.rand(5, generator=gen, dtype=torch.float64) + 0.5)
    x = (3 * torch.randn(*shape, generator=gen, dtype=torch.float64) + 2).to(device).requires_grad_()  # (N, C[, H, W])
    g = torch.randn(*shape, generator=gen, dtype=torch.float64).to(device)  # dL/dy
    by_autograd = torch.autograd.grad(bn(x), (x, bn.weight, bn.bias), g)
    by_hand = batch_norm_backward(g, x.detach(), bn.weight.detach(), bn.eps)
    for name, a, b in zip(("dL/dx", "dL/dgamma", "dL/dbeta"), by_hand, by_autograd):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    print(f"{type(bn).__name__} on {shape}: backward by hand == autograd through PyTorch's kernel (float64)")
# --8<-- [end:backward]

# --8<-- [start:inference]
import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved

# momentum=None: running statistics are plain averages over the training mini-batches, as in Algorithm 2
bn = nn.BatchNorm2d(4, momentum=None).to(device)
with torch.no_grad():
    bn.weight.copy_(torch.rand(4, generator=gen) + 0.5)
    bn.bias.copy_(torch.randn(4, generator=gen))
batch_means, batch_vars = [], []
bn.train()
for step in range(10):
    x = (3 * torch.randn(8, 4, 5, 5, generator=gen) - 1).to(device)  # (N, C, H, W)
    bn(x)
    batch_means.append(x.mean(dim=(0, 2, 3)))  # mu_B, (C,)
    batch_vars.append(x.var(dim=(0, 2, 3), unbiased=False))  # sigma_B^2, (C,)
m = 8 * 5 * 5  # values per channel in a mini-batch


def population_statistics(batch_means, batch_vars, m):
    # Algorithm 2, step 10: E[x] <- E_B[mu_B],  Var[x] <- m / (m - 1) * E_B[sigma_B^2]
    mean = torch.stack(batch_means).mean(dim=0)  # (C,)
    var = m / (m - 1) * torch.stack(batch_vars).mean(dim=0)  # (C,)
    return mean, var


mean, var = population_statistics(batch_means, batch_vars, m)
torch.testing.assert_close(bn.running_mean, mean)
torch.testing.assert_close(bn.running_var, var)

# Algorithm 2, step 11: y = gamma / sqrt(Var[x] + eps) * x + (beta - gamma * E[x] / sqrt(Var[x] + eps))
scale = bn.weight / torch.sqrt(var + bn.eps)  # (C,)
shift = bn.bias - scale * mean  # (C,)
x = (3 * torch.randn(2, 4, 5, 5, generator=gen) - 1).to(device)  # (N, C, H, W), a new input
bn.eval()
with torch.no_grad():
    y_torch = bn(x)
    y_hand = scale.view(1, -1, 1, 1) * x + shift.view(1, -1, 1, 1)  # one fixed affine map per channel
torch.testing.assert_close(y_hand, y_torch)
# at inference the output of one example no longer depends on the rest of the batch
torch.testing.assert_close(bn(x[:1]).detach(), y_torch[:1])
print("Algorithm 2 == BatchNorm2d(momentum=None).eval(): population statistics", [round(v, 3) for v in mean.tolist()])
# --8<-- [end:inference]

# --8<-- [start:scale]
import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved

# Sec. 3.3: with batch statistics, BN(W u) = BN((a W) u) for a scalar a > 0, and
#   d BN((a W) u) / d u = d BN(W u) / d u,   d BN((a W) u) / d (a W) = (1 / a) * d BN(W u) / d W
W = torch.randn(8, 20, generator=gen, dtype=torch.float64).to(device).requires_grad_()  # (out, in)
u = torch.randn(32, 20, generator=gen, dtype=torch.float64).to(device).requires_grad_()  # (N, in)
upstream = torch.randn(32, 8, generator=gen, dtype=torch.float64).to(device)  # (N, out)
bn = nn.BatchNorm1d(8, eps=1e-12).double().to(device)  # eps -> 0: the identity ignores eps
bn.train()  # batch statistics (the invariance does not hold for the running ones)
a = 10.0
aW = (a * W).detach().requires_grad_()  # (out, in)
y = bn(u @ W.T)  # (N, out)
y_scaled = bn(u @ aW.T)  # (N, out)
torch.testing.assert_close(y_scaled, y)
grad_u, grad_W = torch.autograd.grad(y, (u, W), upstream)
grad_u_scaled, grad_aW = torch.autograd.grad(y_scaled, (u, aW), upstream)
torch.testing.assert_close(grad_u_scaled, grad_u)  # the gradient through the layer ignores the scale
torch.testing.assert_close(grad_aW, grad_W / a)  # a larger weight gets a smaller gradient
print(f"a = {a}: BN(Wu) == BN(aWu); |grad wrt aW| / |grad wrt W| = {(grad_aW.norm() / grad_W.norm()).item():.3f} = 1/a")
# --8<-- [end:scale]

# --8<-- [start:small-batch]
import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved

# m = 2: sigma_B is half the gap d = |x_1 - x_2| / 2, so x_hat = +-d / sqrt(d^2 + eps): about -1 and +1, whatever x was
bn = nn.BatchNorm1d(3, affine=False).to(device).train()
x = (5 * torch.randn(2, 3, generator=gen) + 7).to(device)  # (2, C)
d = (x[0] - x[1]).abs() / 2  # (C,)
torch.testing.assert_close(bn(x).abs(), (d / torch.sqrt(d**2 + bn.eps)).expand(2, 3))
# m = 1: nothing to normalise against, and PyTorch refuses in training mode
try:
    bn(x[:1])
    raise AssertionError("BatchNorm1d accepted a batch of one in training mode")
except ValueError as err:
    print("batch of 1 in training mode:", err)

# A small classifier with BN, trained on batches of 32
X = torch.randn(512, 4, generator=gen).to(device)  # (n, 4)
labels = (X[:, 0] + 0.5 * X[:, 1] > 0).long() + (X[:, 2] > 1).long()  # (n,): 3 classes
model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3)).to(device)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(200):
    idx = torch.randint(0, 512, (32,), generator=gen).to(device)  # (32,)
    loss = nn.functional.cross_entropy(model(X[idx]), labels[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()

# Inference: model.eval() switches BN to its running statistics, so a prediction does not depend on
# what else is in the batch: in pairs, alone and all at once give the same logits
model.eval()
with torch.no_grad():
    together = model(X)  # (n, 3)
    in_pairs = torch.cat([model(X[i : i + 2]) for i in range(0, 512, 2)])  # (n, 3)
torch.testing.assert_close(in_pairs, together)
with torch.no_grad():
    alone = torch.cat([model(X[i : i + 1]) for i in range(64)])  # (64, 3): batches of one
torch.testing.assert_close(alone, together[:64])

# Left in training mode, pairs are normalised against each other and the predictions fall apart
model.train()
with torch.no_grad():
    train_pairs = torch.cat([model(X[i : i + 2]) for i in range(0, 512, 2)])
accuracy = {name: (out.argmax(dim=1) == labels).float().mean().item() for name, out in
            [("eval", together), ("train mode, pairs", train_pairs)]}
print("accuracy:", {k: round(v, 3) for k, v in accuracy.items()})
assert accuracy["eval"] > 0.85 and accuracy["train mode, pairs"] < accuracy["eval"] - 0.15, accuracy
# --8<-- [end:small-batch]

# --8<-- [start:train-eval-gap]
import math

import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved

# Same input, two modes. Let the running statistics be exactly right (the population mean and variance):
# eval mode gives z = (h - mu) / sigma, train mode normalises against the other m - 1 values of the batch.
# For h ~ N(mu, sigma^2) the mean squared gap has a closed form (per value, averaged over the batch):
#   E[(x_hat - z)^2] = E[x_hat^2] - 2 E[x_hat z] + E[z^2] = 1 - 2 E[s_m] + 1,   s_m: the biased sample std of m N(0, 1)
#   E[s_m] = sqrt(2 / m) * Gamma(m / 2) / Gamma((m - 1) / 2)      (m = 2: 1 / sqrt(pi), gap 2 - 2 / sqrt(pi) = 0.87)
def expected_gap(m):
    return 2 - 2 * math.sqrt(2 / m) * math.exp(math.lgamma(m / 2) - math.lgamma((m - 1) / 2))


mu, sigma, G = 3.0, 2.0, 20000  # G independent batches, one per column (BatchNorm1d normalises each column alone)
gaps = {}
for m in (2, 4, 16, 64):
    bn = nn.BatchNorm1d(G, affine=False).to(device)
    with torch.no_grad():
        bn.running_mean.fill_(mu)
        bn.running_var.fill_(sigma**2)
        h = (mu + sigma * torch.randn(m, G, generator=gen)).to(device)  # (m, G): G batches of m values
        z = bn.eval()(h)  # (h - mu) / sqrt(sigma^2 + eps)
        x_hat = bn.train()(h)  # (h - mean_B) / sqrt(var_B + eps)
    gaps[m] = ((x_hat - z) ** 2).mean().item()
    print(f"batch {m:>2}: mean squared gap train vs eval {gaps[m]:.4f}, closed form {expected_gap(m):.4f}")
    assert abs(gaps[m] / expected_gap(m) - 1) < 0.03, (m, gaps[m], expected_gap(m))
# --8<-- [end:train-eval-gap]

# --8<-- [start:tiny-batches]
import copy
import math

import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved

# The small-batch section's task: 3 classes from 4 Gaussian features; 1024 rows to train on, 1024 to score
X = torch.randn(2048, 4, generator=gen).to(device)  # (n, 4)
labels = (X[:, 0] + 0.5 * X[:, 1] > 0).long() + (X[:, 2] > 1).long()  # (n,)
X_fit, y_fit, X_val, y_val = X[:1024], labels[:1024], X[1024:], labels[1024:]


def train(norm, batch, steps=400):
    """The same net and the same 400 SGD steps; only the normalisation layer and the batch size change."""
    torch.manual_seed(1)  # the same initial Linear weights every time
    model = nn.Sequential(nn.Linear(4, 16), norm(16), nn.ReLU(), nn.Linear(16, 3)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    order = torch.Generator().manual_seed(2)
    for step in range(steps):
        idx = torch.randint(0, 1024, (batch,), generator=order).to(device)  # (batch,)
        loss = nn.functional.cross_entropy(model(X_fit[idx]), y_fit[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


accuracy, gap, var_error, models = {}, {}, {}, {}
for name, norm, batch in [("BN, batch 2", nn.BatchNorm1d, 2), ("BN, batch 64", nn.BatchNorm1d, 64),
                          ("LayerNorm, batch 2", nn.LayerNorm, 2), ("GroupNorm, batch 2", lambda c: nn.GroupNorm(4, c), 2)]:
    model = models[name] = train(norm, batch)
    in_train_mode = copy.deepcopy(model).train()  # a copy: its forward passes update running statistics
    with torch.no_grad():
        evaluated = model.eval()(X_val)  # (n, 3)
        as_trained = torch.cat([in_train_mode(X_val[i : i + batch]) for i in range(0, 1024, batch)])  # batches as in training
    accuracy[name] = (evaluated.argmax(dim=1) == y_val).float().mean().item()
    gap[name] = ((as_trained - evaluated) ** 2).mean().item()  # mean squared gap of the logits, same inputs
    if norm is nn.BatchNorm1d:
        # the BN input h = W x + b with x ~ N(0, I) has, per channel, mean b and variance |W_c|^2 exactly
        lin, bn = model[0], model[1]
        exact_var = (lin.weight**2).sum(dim=1).detach()  # (16,)
        var_error[batch] = ((bn.running_var / exact_var - 1) ** 2).mean().sqrt().item()  # RMS relative error
    extra = f", running_var off by {var_error[batch]:.0%} (RMS)" if norm is nn.BatchNorm1d else ""
    print(f"{name:>18}: accuracy (eval) {accuracy[name]:.3f}, train-vs-eval gap {gap[name]:.3f}{extra}")

# Why batch 2 hurts: each step's unbiased variance of 2 values is sigma^2 chi^2_1 (relative variance 2 / (m - 1)),
# and the moving average with weight a = 0.1 keeps a fraction a / (2 - a) of it: RMS relative error
# sqrt(a / (2 - a) * 2 / (m - 1)) = 32 % for m = 2, 4 % for m = 64 (the weights' drift adds a little)
for m, err in var_error.items():
    predicted = math.sqrt(0.1 / (2 - 0.1) * 2 / (m - 1))
    assert 0.5 < err / predicted < 2, (m, err, predicted)
# so a BN net trained on pairs scores far worse in eval mode than one trained on batches of 64 ...
assert accuracy["BN, batch 2"] < accuracy["BN, batch 64"] - 0.05, accuracy
# ... while LayerNorm and GroupNorm, which never look across the batch, have no train/eval gap at all
# and learn from the same pairs
for name in ("LayerNorm, batch 2", "GroupNorm, batch 2"):
    assert gap[name] < 1e-10 and accuracy[name] > accuracy["BN, batch 2"], (name, gap, accuracy)

# Third way out: fine-tune the batch-64 net on pairs with the BN statistics frozen (BN in eval mode, the rest training)
model = models["BN, batch 64"]
frozen = model[1].running_mean.clone(), model[1].running_var.clone()
opt = torch.optim.SGD(model.parameters(), lr=0.01)
order = torch.Generator().manual_seed(3)
for step in range(100):
    model.train()
    model[1].eval()  # BN normalises with its running statistics and leaves them alone
    idx = torch.randint(0, 1024, (2,), generator=order).to(device)  # pairs
    loss = nn.functional.cross_entropy(model(X_fit[idx]), y_fit[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
with torch.no_grad():
    tuned = (model.eval()(X_val).argmax(dim=1) == y_val).float().mean().item()
print(f"fine-tuned on pairs with BN frozen: accuracy (eval) {tuned:.3f}")
assert torch.equal(model[1].running_mean, frozen[0]) and torch.equal(model[1].running_var, frozen[1])
assert tuned > accuracy["BN, batch 2"] + 0.05, (tuned, accuracy)
# --8<-- [end:tiny-batches]

# --8<-- [start:fold]
import copy

import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved


def fold(weight, bias, bn):
    """The weight and bias of one layer equal to `layer -> bn` in eval mode (BN a fixed affine map per channel):
    BN(W x + b) = s (W x + b - E[x]) + beta = (s W) x + (s (b - E[x]) + beta),  s = gamma / sqrt(Var[x] + eps)."""
    s = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # (C_out,)
    shape = [-1] + [1] * (weight.dim() - 1)  # s scales each output channel: (C_out, 1, 1, 1) or (C_out, 1)
    return weight * s.view(shape), (bias - bn.running_mean) * s + bn.bias


checked = []
for layer, bn, make_input, fuse in [
    (nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), lambda n: torch.randn(n, 3, 10, 10, generator=gen), fuse_conv_bn_eval),
    (nn.Linear(6, 8), nn.BatchNorm1d(8), lambda n: torch.randn(n, 6, generator=gen), fuse_linear_bn_eval),
]:
    layer, bn = layer.double().to(device), bn.double().to(device)
    with torch.no_grad():  # trained-looking affine parameters, and running statistics from 20 training batches
        bn.weight.copy_(torch.rand(8, generator=gen, dtype=torch.float64) + 0.5)
        bn.bias.copy_(torch.randn(8, generator=gen, dtype=torch.float64))
        for step in range(20):
            bn(layer(2 * make_input(16).double().to(device) + 1))  # train mode: updates running_mean / running_var
    layer.eval(), bn.eval()

    fused = copy.deepcopy(layer)  # the same layer, its weight and bias replaced by the folded ones
    with torch.no_grad():
        weight, bias = fold(layer.weight, layer.bias, bn)
        fused.weight.copy_(weight)
        fused.bias.copy_(bias)
        x = (2 * make_input(4).double() + 1).to(device)  # new inputs
        torch.testing.assert_close(fused(x), bn(layer(x)))  # one layer == layer -> BN (eval), float64
        reference = fuse(layer, bn)  # PyTorch's own folding gives the same layer
        torch.testing.assert_close(fused.weight, reference.weight)
        torch.testing.assert_close(fused.bias, reference.bias)
    checked.append(type(layer).__name__)
print(" and ".join(f"{name} + BN (eval)" for name in checked), "== one layer with folded weights and bias == torch.nn.utils.fusion")
# --8<-- [end:fold]

# --8<-- [start:speed]
import os
import tempfile

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt
import koreanize_matplotlib  # noqa: F401  Korean labels: bundles NanumGothic
import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # data are drawn on the CPU, then moved

# Sec. 4.1's network: 3 fully connected hidden layers of 100 sigmoid units, here on synthetic data:
# 10 classes, labels from a random linear teacher on 20-dimensional inputs
X = torch.randn(1800, 20, generator=gen) * 2 + 1  # (n, 20): 30 mini-batches of 60
labels = (X @ torch.randn(20, 10, generator=gen)).argmax(dim=1)  # (n,)
X, labels = X.to(device), labels.to(device)


def make_net(batch_norm):
    torch.manual_seed(0)  # the same Linear weights for both nets (BN layers draw no random numbers)
    layers, width = [], 20
    for _ in range(3):
        layers += [nn.Linear(width, 100)] + ([nn.BatchNorm1d(100)] if batch_norm else []) + [nn.Sigmoid()]
        width = 100
    return nn.Sequential(*layers, nn.Linear(100, 10)).to(device)


losses, curves = {}, {}
for batch_norm in (False, True):
    net = make_net(batch_norm)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(1)).to(device)
    curves[batch_norm] = []
    for step in range(300):  # mini-batches of 60, as in Sec. 4.1
        idx = order[(step % 30) * 60 :][:60]  # (60,)
        loss = nn.functional.cross_entropy(net(X[idx]), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        curves[batch_norm].append(loss.item())
    net.eval()
    with torch.no_grad():
        losses[batch_norm] = nn.functional.cross_entropy(net(X), labels).item()
    print(f"{'with' if batch_norm else 'without'} BN: training loss after 300 steps {losses[batch_norm]:.3f}")

assert losses[True] < 0.7 * losses[False], "BN trains faster"

fig, ax = plt.subplots(figsize=(6.4, 3.2))
for batch_norm, label in ((False, "배치 정규화 없음"), (True, "배치 정규화 있음")):
    ax.plot(range(1, 301), curves[batch_norm], lw=1, label=label)
ax.set(xlabel="학습 스텝 (미니배치 60개)", ylabel="교차 엔트로피 손실",
       title="시그모이드 은닉층 3개(100 유닛) MLP, SGD 학습률 0.5")
ax.legend()
alt = (f"배치 정규화가 있을 때와 없을 때의 스텝별 학습 손실: 배치 정규화가 있으면 손실이 훨씬 빨리 줄어듭니다 "
       f"(최종 학습 손실 {losses[True]:.2f} 대 {losses[False]:.2f}).")
# Saved where SNIPPET_OUTPUT_DIR points (the site build collects that folder), else in a temporary folder
out_dir = os.environ.get("SNIPPET_OUTPUT_DIR") or tempfile.mkdtemp()
# Lay the text out, then record the smallest font size used (the site checks it is readable at page width)
fig.canvas.draw()
min_pt = min(t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip())
fig.savefig(os.path.join(out_dir, "batch_norm_loss.png"), dpi=200, bbox_inches="tight",
            metadata={"Description": alt, "KB-Min-Font-Pt": str(min_pt)})
plt.close(fig)
print("figure: batch_norm_loss.png")
# --8<-- [end:speed]
