"""Q3: where Adagrad's idea sits in the formula W_{t+1} = W_t - eta / (sqrt(G_t) + eps) * g_t.

G_t is the per-parameter running sum of squared gradients. A parameter that has seen large or
frequent gradients has a large G_t, so its effective step eta / (sqrt(G_t) + eps) is small; a
parameter that is rarely updated (a sparse feature, a rare word's embedding row) keeps a large one.

Sources:
- Duchi, Hazan, Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
  Optimization", JMLR 12 (2011): the diagonal update x_{t+1} = x_t - eta * diag(G_t)^{-1/2} g_t
- PyTorch docs, torch.optim.Adagrad (https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html):
  state_sum += g * g; param -= lr * g / (sqrt(state_sum) + eps); eps = 1e-10 outside the square
  root (d2l.ai puts it inside); lr_decay = 0 keeps eta constant.
"""

# --8<-- [start:update]
import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # data are drawn on the CPU, then moved

# A least-squares problem with features of very different scales
feature_scale = torch.tensor([10.0, 3.0, 1.0, 0.3, 0.1], dtype=torch.float64)  # (5,)
A = (torch.randn(64, 5, generator=gen, dtype=torch.float64) * feature_scale).to(device)  # (64, 5)
b = torch.randn(64, generator=gen, dtype=torch.float64).to(device)  # (64,)


def grad_f(w):
    # f(w) = ||A w - b||^2 / (2 n)  ->  g = A^T (A w - b) / n
    return A.T @ (A @ w - b) / A.shape[0]  # (5,)


eta, steps = 0.1, 200


def adagrad_by_hand(eps):
    W = torch.zeros(5, dtype=torch.float64, device=device)  # (5,)
    G = torch.zeros_like(W)  # (5,) sum of squared gradients, per parameter
    path = []
    for t in range(steps):
        g = grad_f(W)
        # G_t = G_{t-1} + g_t * g_t   (element-wise)
        G = G + g * g
        # W_{t+1} = W_t - eta / (sqrt(G_t) + eps) * g_t
        W = W - eta / (torch.sqrt(G) + eps) * g
        path.append(W)
    return path, G


def adagrad_torch(eps):
    # torch.optim.Adagrad with the same eta and eps (lr_decay=0, initial_accumulator_value=0: the defaults)
    w = torch.zeros(5, dtype=torch.float64, device=device, requires_grad=True)
    opt = torch.optim.Adagrad([w], lr=eta, eps=eps, lr_decay=0)
    path = []
    for t in range(steps):
        opt.zero_grad()
        w.grad = grad_f(w.detach())
        opt.step()
        path.append(w.detach().clone())
    return path, opt.state[w]["sum"]


# eps = 1e-10 (torch's default) and eps = 1: with a large eps, "inside" vs "outside" the square root differ a lot
for eps in (1e-10, 1.0):
    by_hand, G = adagrad_by_hand(eps)
    by_torch, state_sum = adagrad_torch(eps)
    for t in range(steps):
        torch.testing.assert_close(by_torch[t], by_hand[t], rtol=0, atol=1e-12)
    torch.testing.assert_close(state_sum, G, rtol=0, atol=1e-12)
    print(f"eps={eps:g}, {steps} steps: by hand == torch.optim.Adagrad (max |diff| "
          f"{(by_torch[-1] - by_hand[-1]).abs().max().item():.1e})")

eps = 1e-10
by_hand, G = adagrad_by_hand(eps)
# the first step: G_1 = g_1^2, so each coordinate moves by eta * |g| / (|g| + eps) = eta, whatever its gradient
# (up to eta * eps / |g|, below 1e-8 here: the smallest |g_1| is about 0.007)
first_step = by_hand[0].abs()  # (5,), W_0 = 0
print("first step per coordinate:", [f"{v:.6f}" for v in first_step.tolist()])
torch.testing.assert_close(first_step, torch.full_like(first_step, eta), rtol=0, atol=1e-8)
print("effective step eta/(sqrt(G)+eps) per parameter:", [f"{v:.4f}" for v in (eta / (G.sqrt() + eps)).tolist()])
# the large-scale feature has seen the largest gradients, so it takes the smallest step
assert (eta / (G.sqrt() + eps)).argmin() == 0
# --8<-- [end:update]

# --8<-- [start:sparse]
import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"

# Two "words": word 0 occurs in every batch, word 1 in one batch out of ten.
# A row that is not looked up gets a zero gradient, and a zero adds nothing to G_t.
eta = 0.1
emb = nn.Embedding(2, 3).double().to(device)  # (vocab=2, dim=3)
direction = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, device=device)  # (3,)
opt = torch.optim.Adagrad(emb.parameters(), lr=eta)

moved = torch.zeros(2, dtype=torch.long)  # steps in which torch actually changed each row
eff = torch.zeros(2, 3, dtype=torch.float64)  # each row's last step as torch applied it, per unit gradient
for t in range(100):
    words = torch.tensor([0, 1] if t % 10 == 0 else [0], device=device)  # (batch,)
    opt.zero_grad()
    # a linear loss: every lookup gives its row the same gradient, `direction`,
    # so the two rows differ only in how often they are updated
    loss = (emb(words) * direction).sum()
    loss.backward()
    before = emb.weight.detach().clone()  # (2, 3)
    opt.step()
    change = (before - emb.weight.detach()).cpu()  # (2, 3): the step torch took
    rows = change.ne(0).any(dim=1)  # (2,) rows that moved
    moved += rows
    eff[rows] = change[rows] / direction.cpu()  # measured effective step: step / gradient

G = opt.state[emb.weight]["sum"]  # (2, 3): squared gradients summed over the steps
print(f"updates: frequent={moved[0].item()}, rare={moved[1].item()}")
print("effective step: frequent", [round(v, 4) for v in eff[0].tolist()],
      "rare", [round(v, 4) for v in eff[1].tolist()])
# G_t = (number of updates) * direction^2
torch.testing.assert_close(G, torch.stack([100 * direction**2, 10 * direction**2]))
# a row that is not looked up does not move: 100 and 10 steps, as scheduled
assert moved.tolist() == [100, 10], moved
# the n-th update sees G = n d^2, so torch's step per unit gradient is eta / (sqrt(n) |d|): n = 100 and 10
expected = eta / (torch.tensor([[100.0], [10.0]], dtype=torch.float64).sqrt() * direction.abs().cpu())  # (2, 3)
torch.testing.assert_close(eff, expected)
# so the rare row's step is sqrt(100 / 10) times larger
torch.testing.assert_close(eff[1] / eff[0], torch.full_like(eff[1], 10**0.5))
# --8<-- [end:sparse]
