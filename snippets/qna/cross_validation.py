"""Q2: k-fold cross-validation to choose a hyper-parameter, then one final fit and one test.

Every training sample is held out exactly once; each fold's model (scaler included) is trained on
the other k - 1 folds (all of them, not one fold); the weight decay (ridge penalty) with the best
mean validation score is refit on the whole training set (train + validation), and the test set,
NaN until then so that nothing can touch it by mistake, is scored once. Over many data sets the
refit beats the fold models on average, though not on every data set.

Sources:
- Hastie, Tibshirani, Friedman, The Elements of Statistical Learning (2nd ed.), Sec. 7.10
  "Cross-Validation" (7.10.1 K-fold cross-validation)
- Ridge regression closed form: ESL Sec. 3.4.1, eq. (3.44)
- PyTorch docs, torch.linalg.solve (https://pytorch.org/docs/stable/generated/torch.linalg.solve.html)
"""

# --8<-- [start:folds]
import torch

torch.manual_seed(0)


def k_fold_indices(n, k, generator):
    """Shuffle 0..n-1 once and cut it into k nearly equal folds (the first n % k folds get one more)."""
    perm = torch.randperm(n, generator=generator)  # (n,)
    return list(perm.tensor_split(k))


n, k = 10, 3
folds = k_fold_indices(n, k, torch.Generator().manual_seed(0))
for i, val_idx in enumerate(folds):
    train_idx = torch.cat([f for j, f in enumerate(folds) if j != i])  # the other k - 1 folds
    print(f"fold {i}: validate on {sorted(val_idx.tolist())}, train on {sorted(train_idx.tolist())}")
    # the fold's training part is exactly the rest of the training set
    rest = set(range(n)) - set(val_idx.tolist())
    assert set(train_idx.tolist()) == rest, f"fold {i} trains on {len(train_idx)} samples, not the other {len(rest)}"

# folds are disjoint and together cover the training set: every sample is held out exactly once
held_out = torch.cat(folds)
assert torch.equal(torch.bincount(held_out, minlength=n), torch.ones(n, dtype=torch.long))
assert sorted(len(f) for f in folds) == [3, 3, 4]
# --8<-- [end:folds]

# --8<-- [start:select]
import math

import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # data are drawn on the CPU, then moved

# Synthetic regression: y = X w* + noise, many features and a weak signal (ridge helps)
n_train, n_test, d, noise = 1000, 10000, 200, 3.0
w_true = 0.2 * torch.randn(d, 1, generator=gen, dtype=torch.float64)  # (d, 1)
X = torch.randn(n_train + n_test, d, generator=gen, dtype=torch.float64)  # (n, d)
y = X @ w_true + noise * torch.randn(n_train + n_test, 1, generator=gen, dtype=torch.float64)  # (n, 1)
X, y = X.to(device), y.to(device)

# The test split is out of reach until the last lines: its rows are NaN until then, so anything
# computed from them before the end (a scaler fit on all rows, a score on the test set) is NaN
sealed = X[n_train:].clone(), y[n_train:].clone()
X[n_train:], y[n_train:] = float("nan"), float("nan")
X_train, y_train = X[:n_train], y[:n_train]


def fit(X, y, lam):
    """The whole model: a scaler fit on these rows, then ridge regression on the scaled features."""
    mu, sd = X.mean(dim=0), X.std(dim=0)  # (d,) each
    Z = (X - mu) / sd  # (n, d)
    # w = (Z^T Z + lam I)^{-1} Z^T y  (ESL eq. 3.44)
    eye = torch.eye(Z.shape[1], dtype=Z.dtype, device=Z.device)  # (d, d)
    return mu, sd, torch.linalg.solve(Z.T @ Z + lam * eye, Z.T @ y)  # w: (d, 1)


def mse(model, X, y):
    mu, sd, w = model
    return (((X - mu) / sd @ w - y) ** 2).mean().item()


# k folds of the training set: disjoint, covering it, each sample held out exactly once
k = 5
folds = [f.to(device) for f in torch.randperm(n_train, generator=gen).tensor_split(k)]  # k x (n_train / k,)
counts = torch.bincount(torch.cat(folds), minlength=n_train)
assert torch.equal(counts, torch.ones(n_train, dtype=torch.long, device=device)), f"held out 0 or 2+ times: {(counts != 1).sum()} samples"


def fold_model(X, y, i, lam):
    """Fold i's model: everything, the scaler included, fit on the other k - 1 folds only."""
    train_idx = torch.cat([f for j, f in enumerate(folds) if j != i])  # the other k - 1 folds
    return fit(X[train_idx], y[train_idx], lam)


lambdas = [1.0, 10.0, 100.0, 1000.0, 10000.0]
cv_score = {}
for lam in lambdas:
    # CV(lam) = (1/k) * sum_i MSE on fold i of the model trained without fold i
    cv_score[lam] = sum(mse(fold_model(X_train, y_train, i, lam), X_train[f], y_train[f]) for i, f in enumerate(folds)) / k
    print(f"lambda={lam:>7g}: mean validation MSE {cv_score[lam]:.3f}")
assert all(math.isfinite(v) for v in cv_score.values()), "the CV computed with NaN: it reached the test split"

best = min(cv_score, key=cv_score.get)
assert best not in (lambdas[0], lambdas[-1]), "the grid should bracket the best value"

# No leakage between folds: a fold's model is the same when its validation rows are hidden (NaN)
for i, f in enumerate(folds):
    hidden = X_train.clone()
    hidden[f] = float("nan")
    for a, b in zip(fold_model(hidden, y_train, i, best), fold_model(X_train, y_train, i, best)):
        torch.testing.assert_close(a, b)

# Refit on the whole training set (train + validation folds) with the chosen value ...
final = fit(X_train, y_train, best)
# ... then, on the last lines, open the test split and score it exactly once
X_test, y_test = sealed
test_mse = mse(final, X_test, y_test)
print(f"chosen lambda={best:g}; CV MSE {cv_score[best]:.3f}; test MSE {test_mse:.3f} (noise variance {noise**2:g})")
# the CV estimate and the test score agree, two-sided: the refit saw 5/4 as much data as a fold model,
# so it is usually a little better (test / CV between 0.86 and 1.10 over 20 seeds of this set-up)
assert 0.75 < test_mse / cv_score[best] < 1.2, (test_mse, cv_score[best])
# --8<-- [end:select]

# --8<-- [start:refit]
import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(1)  # data are drawn on the CPU, then moved

# 500 independent training sets of 60 samples from y = x w* + noise (d = 40), the penalty fixed
R, n, d, k, lam, noise = 500, 60, 40, 5, 10.0, 3.0
w_true = torch.randn(d, 1, generator=gen, dtype=torch.float64).to(device)  # (d, 1)
X = torch.randn(R, n, d, generator=gen, dtype=torch.float64).to(device)  # (R, n, d)
y = X @ w_true + noise * torch.randn(R, n, 1, generator=gen, dtype=torch.float64).to(device)  # (R, n, 1)


def ridge(X, y, lam):
    # w = (X^T X + lam I)^{-1} X^T y, for every data set at once: (R, m, d), (R, m, 1) -> (R, d, 1)
    eye = torch.eye(X.shape[-1], dtype=X.dtype, device=X.device)  # (d, d)
    return torch.linalg.solve(X.mT @ X + lam * eye, X.mT @ y)


def expected_mse(w):
    # a fresh point x ~ N(0, I), y = x w* + e:  E[(x w - y)^2] = noise^2 + |w - w*|^2  (exact: no test sample)
    return noise**2 + ((w - w_true) ** 2).sum(dim=(-2, -1))  # (R,)


folds = torch.randperm(n, generator=gen).tensor_split(k)  # the same folds for every data set
fold_mse = torch.stack([expected_mse(ridge(X[:, keep], y[:, keep], lam))
                        for keep in [torch.cat([f for j, f in enumerate(folds) if j != i]).to(device) for i in range(k)]])  # (k, R)
# the refit: the same penalty, all n samples
refit_mse = expected_mse(ridge(X, y, lam))  # (R,)

wins = (refit_mse < fold_mse.min(dim=0).values).double().mean().item()
print(f"expected test MSE over {R} data sets: fold models {fold_mse.mean().item():.3f}, refit {refit_mse.mean().item():.3f}; "
      f"the refit beats all {k} fold models on {wins:.0%} of the data sets")
# what always holds is the average: more data, lower expected error (here 11-14% lower)
assert refit_mse.mean() < 0.95 * fold_mse.mean(), (refit_mse.mean(), fold_mse.mean())
# but not every data set: on some a fold model is better than the refit
assert wins < 1
# --8<-- [end:refit]
