"""Batch Normalization: Algorithm 1 (training) and Algorithm 2 (inference) by hand, against PyTorch.

For (N, C) inputs (after a fully connected layer, nn.BatchNorm1d) the statistics are taken over N;
for (N, C, H, W) inputs (after a convolution, nn.BatchNorm2d) over N, H and W, per channel (Sec. 3.2).
PyTorch normalizes with the biased batch variance but keeps running_var with the unbiased one,
and momentum=0.1 is the weight of the new batch statistic; momentum=None keeps plain averages over
all batches, which is exactly the paper's Algorithm 2.

Sources:
- Ioffe, Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing Internal
  Covariate Shift", ICML 2015 (arXiv:1502.03167): Algorithm 1, Algorithm 2, Sec. 3.2, Sec. 4.1
  (MNIST: 3 fully connected hidden layers of 100 sigmoid units, with and without BN)
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

# --8<-- [start:fold]
import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved

# At inference BN is a fixed affine map per channel, so it folds into the convolution before it:
#   BN(W * x + b) = s (W * x + b - E[x]) + beta,  s = gamma / sqrt(Var[x] + eps)
#   = (s W) * x + (s (b - E[x]) + beta)
conv = nn.Conv2d(3, 8, 3, padding=1).double().to(device)
bn = nn.BatchNorm2d(8).double().to(device)
with torch.no_grad():  # trained-looking statistics and affine parameters
    bn.running_mean.copy_(torch.randn(8, generator=gen, dtype=torch.float64))
    bn.running_var.copy_(torch.rand(8, generator=gen, dtype=torch.float64) + 0.5)
    bn.weight.copy_(torch.rand(8, generator=gen, dtype=torch.float64) + 0.5)
    bn.bias.copy_(torch.randn(8, generator=gen, dtype=torch.float64))
conv.eval(), bn.eval()

s = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # (C_out,)
fused = nn.Conv2d(3, 8, 3, padding=1).double().to(device)
with torch.no_grad():
    fused.weight.copy_(conv.weight * s.view(-1, 1, 1, 1))  # (C_out, C_in, k, k): each output channel scaled
    fused.bias.copy_(s * (conv.bias - bn.running_mean) + bn.bias)  # (C_out,)

x = torch.randn(4, 3, 10, 10, generator=gen, dtype=torch.float64).to(device)  # (N, C, H, W)
with torch.no_grad():
    torch.testing.assert_close(fused(x), bn(conv(x)))
    # and PyTorch's own folding gives the same layer
    reference = fuse_conv_bn_eval(conv, bn)
    torch.testing.assert_close(fused.weight, reference.weight)
    torch.testing.assert_close(fused.bias, reference.bias)
print("Conv2d + BatchNorm2d (eval) == one Conv2d with folded weights and bias; == torch.nn.utils.fusion.fuse_conv_bn_eval")
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
