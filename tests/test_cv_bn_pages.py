"""The page's cross-validation splitters are scikit-learn's, written in plain torch (issue 25, item 13).

snippets/qna/cross_validation.py writes stratified, group and time-series splits without scikit-learn,
so that the page teaches the idea; its sections assert the defining property of each split. Here the
same functions, taken from the sections exactly as the page shows them, are compared with the
library that most people use: TimeSeriesSplit and GroupKFold fold for fold, StratifiedKFold by the
number of each class in each fold (its shuffling draws differ, its allocation does not).
"""

from __future__ import annotations

import ast

import numpy as np
import pytest
import torch
from conftest import ROOT
from sklearn.model_selection import GroupKFold, StratifiedKFold, TimeSeriesSplit

from kb.blocks import snippet_sections

SNIPPET = "snippets/qna/cross_validation.py"


def section_functions(name: str) -> dict:
    """The imports and functions of a section, run without its demonstration (no data, no prints)."""
    code = next(s.code for s in snippet_sections(ROOT / SNIPPET, ROOT) if s.name == name)
    tree = ast.parse(code)
    tree.body = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef))]
    namespace: dict = {}
    exec(compile(tree, f"{SNIPPET}:{name}", "exec"), namespace)
    return namespace


@pytest.mark.parametrize(("n", "k"), [(50, 5), (51, 5), (12, 3), (100, 4), (7, 6), (20, 2)])
def test_time_series_split_equals_sklearn(n, k):
    time_series_split = section_functions("time-series")["time_series_split"]
    ours = [(train.tolist(), test.tolist()) for train, test in time_series_split(n, k)]
    theirs = [(train.tolist(), test.tolist()) for train, test in TimeSeriesSplit(n_splits=k).split(np.zeros(n))]
    assert ours == theirs


@pytest.mark.parametrize("seed", range(6))
def test_group_k_fold_equals_sklearn(seed):
    group_k_fold = section_functions("groups")["group_k_fold"]
    rng = np.random.default_rng(seed)
    n, n_groups, k = int(rng.integers(20, 300)), int(rng.integers(6, 60)), int(rng.integers(2, 6))
    groups = rng.integers(0, n_groups, n) * 7 + 3  # ids need not be 0..G-1; sizes tie often
    fold = group_k_fold(torch.from_numpy(groups), k).numpy()
    theirs = [test.tolist() for _, test in GroupKFold(n_splits=k).split(np.zeros(n), groups=groups)]
    assert [np.flatnonzero(fold == f).tolist() for f in range(k)] == theirs


@pytest.mark.parametrize("seed", range(6))
def test_stratified_k_fold_has_sklearns_class_counts(seed):
    stratified_k_fold = section_functions("stratified")["stratified_k_fold"]
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 7))
    sizes = rng.integers(k, 60, int(rng.integers(2, 5)))  # every class has at least k members
    labels = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    # scikit-learn deals the classes in the order they first appear; number them that way
    labels = np.unique(labels, return_index=True)[1].argsort().argsort()[labels]
    fold = stratified_k_fold(torch.from_numpy(labels), k, torch.Generator().manual_seed(seed)).numpy()
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    theirs = [np.bincount(labels[test], minlength=len(sizes)).tolist() for _, test in splitter.split(np.zeros(len(labels)), labels)]
    ours = [np.bincount(labels[fold == f], minlength=len(sizes)).tolist() for f in range(k)]
    assert ours == theirs
