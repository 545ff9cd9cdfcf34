"""Q2: k-fold cross-validation to choose a hyper-parameter, then one final fit and one test.

Every training sample is held out exactly once; each fold's model (scaler included) is trained on
the other k - 1 folds (all of them, not one fold); the weight decay (ridge penalty) with the best
mean validation score is refit on the whole training set (train + validation), and the test set,
NaN until then so that nothing can touch it by mistake, is scored once. Over many data sets the
refit beats the fold models on average, though not on every data set. Feature selection fit before
the split makes CV report skill on pure noise; the winning CV score of a search is optimistic and
nested CV is not; stratified, group and time-series splits are written out and their defining
properties asserted (tests/test_cv_bn_pages.py checks them against scikit-learn's splitters).

Sources:
- Hastie, Tibshirani, Friedman, The Elements of Statistical Learning (2nd ed.), Sec. 7.10
  "Cross-Validation" (7.10.1 K-fold cross-validation)
- Ridge regression closed form: ESL Sec. 3.4.1, eq. (3.44)
- ESL Sec. 7.10.2 "The Wrong and Right Way to Do Cross-validation" (selection on pure noise)
- Cawley, Talbot, "On Over-fitting in Model Selection and Subsequent Selection Bias in Performance
  Evaluation", JMLR 11 (2010); Varma, Simon, "Bias in error estimation when using cross-validation
  for model selection", BMC Bioinformatics 7:91 (2006): nested cross-validation
- scikit-learn user guide 3.1 "Cross-validation: evaluating estimator performance"
  (StratifiedKFold, GroupKFold, TimeSeriesSplit)
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

# --8<-- [start:leakage]
import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(3)  # data are drawn on the CPU, then moved

# ESL Sec. 7.10.2: R data sets of n samples with d pure-noise features and coin-flip labels, so no
# classifier can beat an error of exactly 0.5 on new data. Keep the 20 features most correlated with
# the labels, then classify by the nearest neighbour (1-NN) among the training rows.
R, n_train, n_test, d, keep, k = 20, 50, 200, 2000, 20, 5
X = torch.randn(R, n_train + n_test, d, generator=gen).to(device)  # (R, n, d)
y = torch.randint(0, 2, (R, n_train + n_test), generator=gen).float().to(device)  # (R, n): coin flips
sealed = X[:, n_train:].clone(), y[:, n_train:].clone()  # the test rows, NaN until the last lines
X[:, n_train:], y[:, n_train:] = float("nan"), float("nan")
X_train, y_train = X[:, :n_train], y[:, :n_train]


def select(X, y):
    """Indices of the `keep` features with the largest |correlation| with y, from these rows only."""
    assert not X.isnan().any(), "the selection reached the sealed test rows"
    Xc, yc = X - X.mean(dim=1, keepdim=True), y - y.mean(dim=1, keepdim=True)  # (R, m, d), (R, m)
    # |corr(x_j, y)| up to a factor shared by every feature: |sum_i xc_ij yc_i| / |xc_j|
    score = (Xc * yc[..., None]).sum(dim=1).abs() / Xc.norm(dim=1)  # (R, d)
    return score.topk(keep, dim=1).indices  # (R, keep)


def nearest_neighbour(X_fit, y_fit, X_new, features):
    """1-NN on the chosen features: each new row gets the label of the closest fitting row."""
    pick = lambda A: A.gather(2, features[:, None, :].expand(-1, A.shape[1], -1))  # (R, m, keep)
    nearest = torch.cdist(pick(X_new), pick(X_fit)).argmin(dim=2)  # (R, m_new)
    return y_fit.gather(1, nearest)  # (R, m_new)


folds = torch.randperm(n_train, generator=gen).to(device).tensor_split(k)  # the same folds for every data set
leaky_features = select(X_train, y_train)  # chosen ONCE, with every training row: the validation folds too
errors = {"leaky": 0.0, "honest": 0.0}
for i, val in enumerate(folds):
    fit_rows = torch.cat([f for j, f in enumerate(folds) if j != i])  # the other k - 1 folds
    honest_features = select(X_train[:, fit_rows], y_train[:, fit_rows])  # chosen inside the fold
    for name, features in (("leaky", leaky_features), ("honest", honest_features)):
        guess = nearest_neighbour(X_train[:, fit_rows], y_train[:, fit_rows], X_train[:, val], features)
        errors[name] += (guess != y_train[:, val]).float().mean().item() / k  # mean over the R data sets

# the final model: selection and 1-NN fit on all training rows; then, on the last lines, the test
X_test, y_test = sealed
final = nearest_neighbour(X_train, y_train, X_test, select(X_train, y_train))
errors["test"] = (final != y_test).float().mean().item()
print({name: round(e, 3) for name, e in errors.items()}, "(any classifier's true error: 0.5)")
# the true error is known exactly (0.5): the honest CV and the test agree with it, the leaky CV does not
assert abs(errors["honest"] - 0.5) < 0.08, errors
assert abs(errors["test"] - 0.5) < 0.05, errors
assert errors["leaky"] < 0.3, errors
# so the honest CV predicts the test score, and the leaky CV misses it by far
assert abs(errors["honest"] - errors["test"]) < 0.1 and errors["test"] - errors["leaky"] > 0.2, errors
# --8<-- [end:leakage]

# --8<-- [start:nested]
import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(4)  # data are drawn on the CPU, then moved

# R independent data sets of n samples from y = x w* + noise, x ~ N(0, I): the expected test error of
# any weight w is known exactly, noise^2 + |w - w*|^2, so no estimate needs a test sample to be judged
R, n, d, k, noise = 400, 30, 20, 5, 1.0
lambdas = torch.logspace(-2, 3, 16, dtype=torch.float64).to(device)  # (L,): the grid the search picks from
w_true = 0.15 * torch.randn(R, d, 1, generator=gen, dtype=torch.float64).to(device)  # (R, d, 1)
X = torch.randn(R, n, d, generator=gen, dtype=torch.float64).to(device)  # (R, n, d)
y = X @ w_true + noise * torch.randn(R, n, 1, generator=gen, dtype=torch.float64).to(device)  # (R, n, 1)
every = torch.arange(R, device=device)  # (R,): to pick one lambda per data set


def ridge_path(rows):
    """Ridge weights on these rows for every lambda: (R, L, d, 1). w = (X^T X + lam I)^{-1} X^T y."""
    A, b = X[:, rows], y[:, rows]  # (R, m, d), (R, m, 1)
    eye = torch.eye(d, dtype=A.dtype, device=device)  # (d, d)
    return torch.linalg.solve((A.mT @ A)[:, None] + lambdas[:, None, None] * eye, (A.mT @ b)[:, None])


def mse(w, rows):
    """Mean squared error on these rows of the weights w: (R, L, d, 1) -> (R, L)."""
    return ((X[:, None, rows] @ w - y[:, None, rows]) ** 2).mean(dim=(-2, -1))  # X[:, None, rows]: (R, 1, m, d)


def cv_curve(rows, k):
    """k-fold CV error of every lambda, using these rows only: (R, L)."""
    folds = rows[torch.randperm(len(rows), generator=gen).to(device)].tensor_split(k)
    return sum(mse(ridge_path(torch.cat([f for j, f in enumerate(folds) if j != i])), val)
               for i, val in enumerate(folds)) / k


def expected_mse(w):  # w: (R, d, 1) -> (R,);  E[(x w - y)^2] = noise^2 + |w - w*|^2
    return noise**2 + ((w - w_true) ** 2).sum(dim=(-2, -1))


rows = torch.arange(n, device=device)
# Not nested: search lambda by 5-fold CV, refit, and report the winning CV score as the model's error
curve = cv_curve(rows, k)  # (R, L)
non_nested = curve.min(dim=1).values  # (R,)
chosen_true = expected_mse(ridge_path(rows)[every, curve.argmin(dim=1)])  # (R,): what that model really scores

# Nested: each outer fold is scored by a model whose lambda an inner 4-fold CV chose on the other folds
outer = rows[torch.randperm(n, generator=gen).to(device)].tensor_split(k)
nested, nested_true = 0, 0
for i, test_rows in enumerate(outer):
    fit_rows = torch.cat([f for j, f in enumerate(outer) if j != i])
    pick = cv_curve(fit_rows, k - 1).argmin(dim=1)  # (R,): the inner search sees fit_rows only
    w = ridge_path(fit_rows)[every, pick]  # (R, d, 1)
    nested = nested + mse(w[:, None], test_rows)[:, 0] / k  # the outer fold scores what the search picked
    nested_true = nested_true + expected_mse(w) / k  # what those k models really score

ratio = {"non-nested": (non_nested.mean() / chosen_true.mean()).item(), "nested": (nested.mean() / nested_true.mean()).item()}
print(f"estimate / exact expected error over {R} data sets:", {name: round(r, 3) for name, r in ratio.items()})
# the nested estimate is right on average (0.97-1.00 over 5 seeds); the winning CV score is optimistic (0.86-0.88)
assert 0.93 < ratio["nested"] < 1.07, ratio
assert 0.75 < ratio["non-nested"] < 0.95, ratio
# --8<-- [end:nested]

# --8<-- [start:stratified]
import torch

torch.manual_seed(0)
gen = torch.Generator().manual_seed(5)


def stratified_k_fold(labels, k, generator):
    """Fold id of every sample: shuffle, sort by class (stable), then deal the samples round-robin like cards,
    so each class is spread over the k folds as evenly as it can be."""
    perm = torch.randperm(len(labels), generator=generator)  # (n,)
    order = perm[torch.argsort(labels[perm], stable=True)]  # (n,): shuffled within each class, classes in a row
    fold = torch.empty(len(labels), dtype=torch.long)
    fold[order] = torch.arange(len(labels)) % k  # card i goes to fold i mod k
    return fold  # (n,)


# 203 samples of 3 classes in proportions 60 / 30 / 10 %
k = 5
labels = torch.multinomial(torch.tensor([0.6, 0.3, 0.1]), 203, replacement=True, generator=gen)  # (n,)
fold = stratified_k_fold(labels, k, gen)
counts = torch.stack([torch.bincount(labels[fold == f], minlength=3) for f in range(k)])  # (k, classes)
share = torch.bincount(labels, minlength=3) / k  # (classes,): the overall proportion times the fold size
print("class counts per fold:", counts.tolist(), "; n_class / k:", [round(s, 1) for s in share.tolist()])
# every fold holds each class in the overall proportion, within one sample
assert ((counts - share).abs() < 1).all(), (counts, share)
assert torch.equal(counts.sum(dim=0), torch.bincount(labels, minlength=3))  # every sample in exactly one fold
# --8<-- [end:stratified]

# --8<-- [start:groups]
import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator().manual_seed(6)  # data are drawn on the CPU, then moved


def group_k_fold(groups, k):
    """Fold id of every sample: whole groups are assigned, the largest first, each to the fold with the fewest samples."""
    ids, group_of = torch.unique(groups, return_inverse=True)  # group_of: (n,) in 0..G-1
    sizes = torch.bincount(group_of)  # (G,)
    load = torch.zeros(k, dtype=torch.long)  # samples per fold so far
    fold_of_group = torch.empty(len(ids), dtype=torch.long)
    for g in sizes.argsort(stable=True).flip(0).tolist():  # largest first (ties: the later group first)
        f = load.argmin().item()  # the lightest fold (ties: the first)
        fold_of_group[g] = f
        load[f] += sizes[g]
    return fold_of_group[group_of]  # (n,)


# 600 patients, a few images each. Each patient's images look alike (a fingerprint plus a little noise),
# and the label is a coin flip per patient: on a new patient no classifier's error can beat 0.5
k, n_patients, n_images, d = 5, 600, 2000, 10
patient = torch.randint(0, n_patients, (n_images,), generator=gen)  # (n,): whose image it is
fingerprint = torch.randn(n_patients, d, generator=gen)  # (P, d)
X = (fingerprint[patient] + 0.1 * torch.randn(n_images, d, generator=gen)).to(device)  # (n, d)
y = torch.randint(0, 2, (n_patients,), generator=gen)[patient].to(device)  # (n,)

fold = group_k_fold(patient, k)
for f in range(k):
    test_groups, train_groups = set(patient[fold == f].tolist()), set(patient[fold != f].tolist())
    assert not test_groups & train_groups, f"fold {f}: patients on both sides {sorted(test_groups & train_groups)[:5]}"


def cv_error_1nn(fold):
    """k-fold CV error of the nearest-neighbour classifier (1-NN) for a given fold id per sample."""
    fold = fold.to(device)
    wrong = 0
    for f in range(k):
        fit, val = fold != f, fold == f
        nearest = torch.cdist(X[val], X[fit]).argmin(dim=1)  # (n_val,)
        wrong += (y[fit][nearest] != y[val]).sum().item()
    return wrong / n_images


errors = {"by patient": cv_error_1nn(fold), "by image": cv_error_1nn(torch.randperm(n_images, generator=gen) % k)}
print("1-NN CV error:", {name: round(e, 3) for name, e in errors.items()}, "(on a new patient: 0.5)")
# split by patient, CV tells the truth (0.5); split by image, the model recognises the patient and CV is far too good
assert abs(errors["by patient"] - 0.5) < 0.1, errors
assert errors["by image"] < 0.2, errors
# --8<-- [end:groups]

# --8<-- [start:time-series]
import torch

torch.manual_seed(0)


def time_series_split(n, k):
    """k (train, test) index pairs: each test block is the next n // (k + 1) steps, and the training part is
    everything before it (an expanding window); the first n - k * size steps are only ever trained on."""
    size = n // (k + 1)
    return [(torch.arange(start), torch.arange(start, start + size)) for start in range(n - k * size, n, size)]


n, k = 50, 5
splits = time_series_split(n, k)
for train, test in splits:
    # every training step precedes every test step: the model never sees the future it is scored on
    assert train.max() < test.min(), f"trains on step {train.max()} to predict step {test.min()}"
print("time series:", [(f"train 0-{tr.max().item()}", f"test {te.min().item()}-{te.max().item()}") for tr, te in splits])
# the test blocks are disjoint, consecutive and end at the last step
assert torch.equal(torch.cat([test for _, test in splits]), torch.arange(n - k * (n // (k + 1)), n))
# --8<-- [end:time-series]
