"""What the pages say about the snippets' results is what the snippets compute (issue 25, items 1-4).

Each test would have failed on the page as it was: NAG said to be faster whenever alpha*lam < 1.36,
VGG's weight blamed on its last FC layer and every convolution said to be 3x3, the Transformer's
training cost put in the EN-DE column only, and the refit said to beat every fold model. Numbers
are recomputed here (eigenvalues, layer shapes, the paper's table) or read from what the snippet's
section prints when run alone, never copied from the page into the expected side.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys

import torch
import torch.nn as nn
from conftest import DOCS, ROOT

from kb.blocks import snippet_sections


def page(rel: str) -> str:
    return (DOCS / rel).read_text(encoding="utf-8")


def run_section(snippet: str, name: str) -> str:
    """The section run alone on the CPU, as a reader who copies it would; its standard output."""
    code = next(s.code for s in snippet_sections(ROOT / snippet, ROOT) if s.name == name)
    env = {"CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def spectral_radius(h: float, beta: float, nesterov: bool) -> float:
    look = 1 - h if nesterov else 1.0
    m = torch.tensor([[1 - h, -beta * look], [h, beta * look]], dtype=torch.float64)
    return torch.linalg.eigvals(m).abs().max().item()


def test_momentum_page_says_where_nag_stops_being_faster():
    text = page("qna/momentum-vs-nag.md")
    beta = 0.9
    # the crossing of the two spectral radii, found here by bisection on the eigenvalues
    lo, hi = 1.0, 2 * (1 + beta) / (1 + 2 * beta)
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if spectral_radius(mid, beta, True) < spectral_radius(mid, beta, False) else (lo, mid)
    assert f"{lo:.3f}" == "1.333"
    assert "1.333" in text and "1.357" in text
    # the old claim: faster for every alpha*lam below NAG's stability bound
    assert not re.search(r"1\.36보다 작으면 NAG가 더 빨리", text)
    assert "NAG가 더 느립니다" in text
    # the step counts on the page are the ones the stability section prints
    out = run_section("snippets/qna/momentum_nag.py", "stability")
    counts = {float(h): (int(cm), int(nag)) for h, cm, nag in
              re.findall(r"alpha\*lam = ([\d.]+): \|x\| < 0\.01 from step (\d+) \(momentum\), (\d+) \(NAG\)", out)}
    assert counts[1.32][1] < counts[1.32][0] and counts[1.34][1] > counts[1.34][0], counts
    for h in (1.32, 1.34):
        cm, nag = counts[h]
        assert f"NAG {nag}스텝, 모멘텀 {cm}스텝" in text, (h, cm, nag)


def test_vgg_page_puts_the_weight_in_the_first_fc_layer():
    text = page("papers/vgg.md")
    with torch.device("meta"):  # VGG-16 (D) built from its layer shapes: 13 convolutions, then 3 FC layers
        layers, c_in = [], 3
        for c_out, n in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
            for _ in range(n):
                layers.append(nn.Conv2d(c_in, c_out, 3, padding=1))
                c_in = c_out
        layers += [nn.Linear(512 * 7 * 7, 4096), nn.Linear(4096, 4096), nn.Linear(4096, 1000)]
    sizes = [sum(p.numel() for p in layer.parameters()) for layer in layers]
    heaviest = layers[sizes.index(max(sizes))]
    assert isinstance(heaviest, nn.Linear) and heaviest.in_features == 25088  # the first FC layer
    assert f"{max(sizes):,}" in text and f"{sum(sizes):,}" in text
    heavy = [line for line in text.splitlines() if "무겁게" in line]
    assert heavy and all("마지막 FC" not in line for line in heavy) and any("첫 FC" in line for line in heavy)
    # configuration C has 1x1 convolutions: the page must not say every convolution is 3x3
    assert "모든 합성곱 층을 3×3" not in text
    assert "Network in Network" in text  # where global average pooling comes from
    assert "이후 구조" not in text  # GoogLeNet was VGG's 2014 competitor, not a later design


def test_transformer_table_puts_the_training_cost_in_both_columns():
    text = page("papers/attention-is-all-you-need.md")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and (cells[0].startswith("Transformer") or cells[0] == "MoE"):
            rows[cells[0]] = cells

    def flops(cell):
        m = re.fullmatch(r"\$([\d.]+) \\cdot 10\^\{(\d+)\}\$", cell)
        assert m, f"not a cost: {cell!r}"
        return float(m.group(1)) * 10 ** int(m.group(2))

    for name in ("Transformer (base model)", "Transformer (big)"):
        assert flops(rows[name][3]) == flops(rows[name][4]), rows[name]  # one cell spanning EN-DE and EN-FR
    big, moe = rows["Transformer (big)"], rows["MoE"]
    # "less than 1/4 of the previous best" holds on EN-FR (the best earlier single model, MoE), not on EN-DE
    assert flops(big[4]) / flops(moe[4]) < 0.25 < flops(big[3]) / flops(moe[3])


def test_transformer_page_says_which_multihead_attention_path_gives_nan():
    text = page("papers/attention-is-all-you-need.md")
    assert "need_weights=False" in text and "out_proj" in text
    out = run_section("snippets/papers/attention.py", "masks")
    paths = dict(re.findall(r"nn\.MultiheadAttention (\w+, need_weights=\w+): fully masked row \[([^\]]*)\]", out))
    assert len(paths) == 4, out
    nan = {k for k, v in paths.items() if "nan" in v}
    assert nan == {"eval, need_weights=True", "eval, need_weights=False", "train, need_weights=True"}, paths


def test_cross_validation_page_states_the_refit_as_an_average():
    text = page("qna/cross-validation.md")
    assert "모두보다 시험 오차가 작습니다" not in text
    out = run_section("snippets/qna/cross_validation.py", "refit")
    m = re.search(r"fold models ([\d.]+), refit ([\d.]+); the refit beats all 5 fold models on (\d+)%", out)
    fold, refit, wins = float(m.group(1)), float(m.group(2)), int(m.group(3))
    assert wins < 100 and refit < fold
    assert f"{wins}%뿐" in text, wins
    assert f"약 {round(100 * (1 - refit / fold))}% 낫" in text, (refit, fold)
    assert math.isfinite(fold)
