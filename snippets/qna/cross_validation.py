"""Q2: k-fold cross-validation to choose a hyper-parameter, then one final fit and one test.

Every training sample is held out exactly once; each fold's model is trained on the other
k - 1 folds (all of them, not one fold); the weight decay (ridge penalty) with the best mean
validation score is refit on the whole training set (train + validation), and the test set,
untouched until then, is scored once.

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
import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(0)  # data are drawn on the CPU, then moved

# Synthetic regression: y = X w* + noise, with many features for few samples (ridge helps)
n_train, n_test, d = 60, 1000, 40
w_true = torch.randn(d, 1, generator=gen, dtype=torch.float64)  # (d, 1)
X = torch.randn(n_train + n_test, d, generator=gen, dtype=torch.float64)  # (n, d)
y = X @ w_true + 3.0 * torch.randn(n_train + n_test, 1, generator=gen, dtype=torch.float64)  # (n, 1)
X, y = X.to(device), y.to(device)
X_train, y_train = X[:n_train], y[:n_train]
test_set = (X[n_train:], y[n_train:])  # not looked at until the very end


def ridge_fit(X, y, lam):
    # w = (X^T X + lam I)^{-1} X^T y  (ESL eq. 3.44)
    eye = torch.eye(X.shape[1], dtype=X.dtype, device=X.device)  # (d, d)
    return torch.linalg.solve(X.T @ X + lam * eye, X.T @ y)  # (d, 1)


def mse(X, y, w):
    return ((X @ w - y) ** 2).mean().item()


# k folds of the training set: disjoint, covering it, each sample held out exactly once
k = 5
folds = list(torch.randperm(n_train, generator=gen).tensor_split(k))  # k x (n_train / k,)
counts = torch.bincount(torch.cat(folds), minlength=n_train)
assert torch.equal(counts, torch.ones(n_train, dtype=torch.long)), f"held out 0 or 2+ times: {(counts != 1).sum()} samples"

lambdas = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0]
cv_score = {}
for lam in lambdas:
    scores = []
    for i, val_idx in enumerate(folds):
        train_idx = torch.cat([f for j, f in enumerate(folds) if j != i])  # the other k - 1 folds
        assert len(train_idx) + len(val_idx) == n_train
        w = ridge_fit(X_train[train_idx.to(device)], y_train[train_idx.to(device)], lam)
        scores.append(mse(X_train[val_idx.to(device)], y_train[val_idx.to(device)], w))
    # CV(lam) = (1/k) * sum_i MSE on fold i of the model trained without fold i
    cv_score[lam] = sum(scores) / k
    print(f"lambda={lam:>7g}: mean validation MSE {cv_score[lam]:.3f}")

best = min(cv_score, key=cv_score.get)
assert best not in (lambdas[0], lambdas[-1]), "the grid should bracket the best value"
assert cv_score[best] < cv_score[lambdas[0]]  # the penalty helps on this data

# The k fold models of the chosen value, kept to compare with the refit
fold_models = [ridge_fit(X_train[torch.cat([f for j, f in enumerate(folds) if j != i]).to(device)],
                         y_train[torch.cat([f for j, f in enumerate(folds) if j != i]).to(device)], best)
               for i in range(k)]

# Refit on the whole training set (train + validation folds) with the chosen value ...
w_final = ridge_fit(X_train, y_train, best)
# ... and score the untouched test set exactly once
X_test, y_test = test_set
test_mse = mse(X_test, y_test, w_final)
print(f"chosen lambda={best:g}; CV MSE {cv_score[best]:.3f}; test MSE {test_mse:.3f} (noise variance 9)")
assert 9.0 < test_mse < 1.5 * cv_score[best]  # above the noise floor, in line with the CV estimate

# For the lesson only (a real project scores the test set once): the refit, trained on all n_train
# samples, beats every fold model, each trained on (k - 1) / k of them; averaging the k fold models
# (an ensemble, see Q5) is the other common choice
fold_mse = [mse(X_test, y_test, w) for w in fold_models]
average_mse = mse(X_test, y_test, torch.stack(fold_models).mean(dim=0))
print(f"test MSE: fold models {[round(v, 3) for v in fold_mse]}, their average {average_mse:.3f}, refit {test_mse:.3f}")
assert test_mse < min(fold_mse), "the refit on the whole training set beats every fold model"
# --8<-- [end:select]
