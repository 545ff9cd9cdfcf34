"""Q5: bagging (bootstrap aggregating) is one way to build an ensemble.

An ensemble averages several models. Bagging trains each member on its own bootstrap sample
(n draws with replacement from the n training points), so the members see different data;
an ensemble of members that differ only by their random seed sees the same data every time.
Averaging over bootstrap samples lowers the variance of the prediction across training sets.
The members here are decision stumps (one split, two constants), a classic unstable learner.

Sources:
- Breiman, "Bagging Predictors", Machine Learning 24(2):123-140 (1996): bootstrap replicates,
  averaging for regression; bagging helps unstable learners such as trees
- Buhlmann, Yu, "Analyzing Bagging", Annals of Statistics 30(4) (2002): bagged decision stumps,
  whose variance drops most near the split
- Efron, Tibshirani, An Introduction to the Bootstrap (1993), Ch. 17 (the .632 bootstrap): a point
  is in a bootstrap sample with probability 1 - (1 - 1/n)^n -> 1 - 1/e
- PyTorch docs, torch.randint (https://pytorch.org/docs/stable/generated/torch.randint.html)
"""

# --8<-- [start:bootstrap]
import math

import torch

torch.manual_seed(0)
gen = torch.Generator().manual_seed(0)

n, B = 1000, 200
# a bootstrap sample: n indices drawn uniformly with replacement from 0..n-1
samples = torch.randint(0, n, (B, n), generator=gen)  # (B, n)
print("first bootstrap sample starts with", samples[0, :8].tolist())

# P(a given point is in a sample) = 1 - (1 - 1/n)^n  ~  1 - 1/e = 0.632
in_bag = torch.zeros(B, n, dtype=torch.bool).scatter_(1, samples, True)  # (B, n)
expected = 1 - (1 - 1 / n) ** n
print(f"in-bag fraction: {in_bag.float().mean().item():.4f} (expected {expected:.4f}, limit {1 - 1 / math.e:.4f})")
assert abs(in_bag.float().mean().item() - expected) < 0.005, f"in-bag {in_bag.float().mean().item():.4f}, expected {expected:.4f}"
# The limit: log (1 - 1/n)^n = n log(1 - 1/n) = -1 - 1/(2n) - 1/(3n^2) - ..., so
#   (1 - 1/n)^n = e^-1 (1 - 1/(2n) + O(1/n^2)) -> 1/e = 0.368 out of the bag, 1 - 1/e = 0.632 in it (from above)
for m in (10, 100, 1000, 10000):
    out_of_bag = (1 - 1 / m) ** m
    print(f"n = {m:>7}: in-bag probability {1 - out_of_bag:.6f}")
    assert abs(out_of_bag - math.exp(-1) * (1 - 1 / (2 * m))) < 1 / m**2, m
# how often a point is drawn into one sample: Binomial(n, 1/n), about Poisson(1) (0: out-of-bag)
counts = torch.zeros(B, n).scatter_add_(1, samples, torch.ones(B, n))  # (B, n)
for c in range(4):
    p_c = math.comb(n, c) * (1 / n) ** c * (1 - 1 / n) ** (n - c)
    print(f"drawn {c} times: {(counts == c).float().mean().item():.4f} (Binomial {p_c:.4f})")
    assert abs((counts == c).float().mean().item() - p_c) < 0.005, f"drawn {c} times"
# --8<-- [end:bootstrap]

# --8<-- [start:variance]
import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # data and bootstrap indices are drawn on the CPU, then moved

# R independent training sets of n noisy points from y = sin(3x) + noise, x in [-1, 1]
R, n, M = 500, 50, 25
x = (torch.rand(R, n, generator=gen, dtype=torch.float64) * 2 - 1).to(device)  # (R, n)
y = torch.sin(3 * x) + 0.3 * torch.randn(R, n, generator=gen, dtype=torch.float64).to(device)  # (R, n)


def fit_stump(x, y, candidates=None):
    """Least-squares decision stump on the last dimension: (..., n) data -> (threshold, left, right).

    candidates=None tries every split; an integer makes a randomised learner (as in Extra-Trees):
    the best of that many split positions drawn at random from the global RNG (torch.manual_seed).
    """
    xs, order = x.sort(dim=-1)  # (..., n)
    ys = y.gather(-1, order)  # (..., n)
    k = x.shape[-1]
    n_left = torch.arange(1, k, dtype=x.dtype, device=x.device)  # (k - 1,) points left of each split
    s1, s2 = ys.cumsum(-1), (ys**2).cumsum(-1)  # (..., n) running sums of y and y^2
    l1, l2 = s1[..., :-1], s2[..., :-1]
    r1, r2 = s1[..., -1:] - l1, s2[..., -1:] - l2
    # SSE(split) = sum_left (y - mean_left)^2 + sum_right (y - mean_right)^2 = (S2 - S1^2 / m) per side
    sse = (l2 - l1**2 / n_left) + (r2 - r1**2 / (k - n_left))  # (..., n - 1)
    sse = sse.masked_fill(xs[..., 1:] == xs[..., :-1], float("inf"))  # no split between equal x
    if candidates is not None:  # only `candidates` random split positions per fit
        drawn = torch.rand(sse.shape).argsort(dim=-1).to(sse.device) < candidates  # (..., n - 1)
        sse = sse.masked_fill(~drawn, float("inf"))
    i = sse.argmin(dim=-1, keepdim=True)  # (..., 1)
    threshold = (xs.gather(-1, i) + xs.gather(-1, i + 1)) / 2
    return threshold, l1.gather(-1, i) / n_left[i], r1.gather(-1, i) / (k - n_left[i])


def predict(stump, grid):
    threshold, left, right = stump
    return torch.where(grid <= threshold, left, right)  # (..., G)


grid = torch.linspace(-1, 1, 201, dtype=torch.float64, device=device)  # (G,)

# Single model: one stump per training set
single = predict(fit_stump(x, y), grid)  # (R, G)

# Bagged ensemble: M stumps, each on its own bootstrap sample (n draws with replacement), averaged
boot = torch.randint(0, n, (R, M, n), generator=gen).to(device)  # (R, M, n)
xb = x.unsqueeze(1).expand(R, M, n).gather(-1, boot)  # (R, M, n)
yb = y.unsqueeze(1).expand(R, M, n).gather(-1, boot)  # (R, M, n)
bag_members = predict(fit_stump(xb, yb), grid)  # (R, M, G): member m's prediction on training set r
bagged = bag_members.mean(dim=1)  # (R, G)

# Seeds-only ensemble: M members on the same data that differ only by their seed. A plain stump
# has no randomness (every seed would give the same stump, and the average would be the single
# model), so the members are randomised stumps: each tries 10 random split positions.
members = []
for seed in range(M):
    torch.manual_seed(seed)  # each member's own seed: the only thing that differs
    members.append(predict(fit_stump(x, y, candidates=10), grid))
seed_members = torch.stack(members, dim=1)  # (R, M, G)
seeds_only = seed_members.mean(dim=1)  # (R, G)

truth = torch.sin(3 * grid)
variance, bias2 = {}, {}
for name, pred in [("single stump", single), ("seeds-only ensemble", seeds_only), ("bagged ensemble", bagged)]:
    # variance across training sets, averaged over x: E_x[ Var_D f_D(x) ]
    variance[name] = pred.var(dim=0).mean().item()
    # squared bias: E_x[ (E_D f_D(x) - f(x))^2 ]
    bias2[name] = ((pred.mean(dim=0) - truth) ** 2).mean().item()
    print(f"{name:>20}: variance {variance[name]:.4f}, bias^2 {bias2[name]:.4f}")

# The variance of an average of M members that each have variance s^2 and covariance c with one another:
#   Var((1/M) sum_m f_m) = (1/M^2) (M s^2 + M (M - 1) c) = c + (s^2 - c) / M   (= rho s^2 + (1 - rho) s^2 / M)
# Predicted independently from two members only (their variance and covariance across training sets, per x)
for name, group, pred in [("bagged ensemble", bag_members, bagged), ("seeds-only ensemble", seed_members, seeds_only)]:
    a, b = group[:, 0], group[:, 1]  # (R, G) each
    s2 = (a.var(dim=0) + b.var(dim=0)) / 2  # (G,)
    c = ((a - a.mean(dim=0)) * (b - b.mean(dim=0))).sum(dim=0) / (R - 1)  # (G,)
    predicted = (c + (s2 - c) / M).mean().item()
    rho = (c.mean() / s2.mean()).item()
    print(f"{name:>20}: members' variance {s2.mean().item():.4f}, correlation ~{rho:.2f}; "
          f"variance of the average {variance[name]:.4f}, predicted {predicted:.4f}")
    assert abs(variance[name] / predicted - 1) < 0.15, (name, variance[name], predicted)

assert variance["bagged ensemble"] < 0.8 * variance["single stump"], "bagging lowers the variance"
# averaging helps only if the members differ: here by their seeds (same data, randomised learner)
assert variance["seeds-only ensemble"] < 0.8 * variance["single stump"], "the seeds-only members do not differ"
# bagging is not a bias reducer: the average of stumps is a smoother step, a little closer to sin(3x)
assert abs(bias2["bagged ensemble"] - bias2["single stump"]) < 0.2 * bias2["single stump"]
# --8<-- [end:variance]
