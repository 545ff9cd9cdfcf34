"""VGG: every ConvNet configuration of Table 1 built from one table, checked against Table 2.

Configurations A, A-LRN, B, C (with its 1x1 convolutions), D and E, plus batch-norm variants.
Parameter counts of the built models reproduce the paper's Table 2 (in millions) and the exact
counts torchvision publishes for vgg11/13/16/19 (and their _bn variants), whose models are the
paper's A/B/D/E with the classifier 4096-4096-1000 (weights and biases) after a 7x7 adaptive
average pool.

Sources:
- Simonyan, Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
  ICLR 2015 (arXiv:1409.1556): Sec. 2.1-2.2, Table 1 (configurations), Table 2 (parameters)
- torchvision.models.vgg (https://pytorch.org/vision/stable/models/vgg.html): the published
  parameter counts of vgg11 ... vgg19_bn
- PyTorch docs, torch.nn.LocalResponseNorm (https://pytorch.org/docs/stable/generated/torch.nn.LocalResponseNorm.html)
"""

# --8<-- [start:params]
# --8<-- [start:model]
import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"

# Table 1, one column per configuration: five stages, each followed by a 2x2 max-pool
CFGS = {
    "A": [["conv3-64"], ["conv3-128"], ["conv3-256"] * 2, ["conv3-512"] * 2, ["conv3-512"] * 2],
    "A-LRN": [["conv3-64", "LRN"], ["conv3-128"], ["conv3-256"] * 2, ["conv3-512"] * 2, ["conv3-512"] * 2],
    "B": [["conv3-64"] * 2, ["conv3-128"] * 2, ["conv3-256"] * 2, ["conv3-512"] * 2, ["conv3-512"] * 2],
    "C": [["conv3-64"] * 2, ["conv3-128"] * 2, ["conv3-256"] * 2 + ["conv1-256"],
          ["conv3-512"] * 2 + ["conv1-512"], ["conv3-512"] * 2 + ["conv1-512"]],
    "D": [["conv3-64"] * 2, ["conv3-128"] * 2, ["conv3-256"] * 3, ["conv3-512"] * 3, ["conv3-512"] * 3],
    "E": [["conv3-64"] * 2, ["conv3-128"] * 2, ["conv3-256"] * 4, ["conv3-512"] * 4, ["conv3-512"] * 4],
}


def make_vgg(cfg, batch_norm=False, num_classes=1000):
    layers, in_ch = [], 3
    for stage in cfg:
        for item in stage:
            if item == "LRN":
                # Krizhevsky et al. (2012): b = a / (k + alpha * sum a^2)^beta, n=5, k=2, alpha=1e-4, beta=0.75.
                # PyTorch divides alpha by the size n, so alpha = 5 * 1e-4 gives the same layer (no parameters).
                layers.append(nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0))
                continue
            # "conv{k}-{channels}": k x k, stride 1, padding that keeps the spatial size (Sec. 2.1)
            k, out_ch = (int(v) for v in item.removeprefix("conv").split("-"))
            layers.append(nn.Conv2d(in_ch, out_ch, kernel_size=k, padding=k // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_ch))
            layers.append(nn.ReLU(inplace=True))
            in_ch = out_ch
        layers.append(nn.MaxPool2d(kernel_size=2, stride=2))  # halves H and W
    return nn.Sequential(
        *layers,  # (N, 512, 7, 7) for a 224 x 224 input: five 2x2 max-pools, 224 / 2^5 = 7
        nn.AdaptiveAvgPool2d((7, 7)),  # as in torchvision; the identity at 224 x 224
        nn.Flatten(),  # (N, 25088)
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, num_classes),  # (N, 1000); the soft-max is in the loss
    )


# Depths in Table 1's header: weight layers = convolutions + 3 fully connected layers
convs = {name: [item for stage in cfg for item in stage if item.startswith("conv")] for name, cfg in CFGS.items()}
depth = {name: len(c) + 3 for name, c in convs.items()}
print("weight layers:", depth)
assert depth == {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}

# Five 2x2 max-pools: 224 / 2^5 = 7. The adaptive pool would hide a wrong size, so check the shape
# before it (on the meta device: shapes only, instantly)
with torch.device("meta"):
    layers = list(make_vgg(CFGS["A"]))
    pool_at = next(i for i, m in enumerate(layers) if isinstance(m, nn.AdaptiveAvgPool2d))
    features = nn.Sequential(*layers[:pool_at])(torch.empty(2, 3, 224, 224))  # (N, 512, 7, 7)
assert features.shape == (2, 512, 7, 7), tuple(features.shape)

# A 224 x 224 RGB image gives 1000 class scores (configuration A; the others differ only in depth)
model = make_vgg(CFGS["A"]).to(device).eval()
image = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0)).to(device)  # (N, 3, 224, 224)
last_fc = [m for m in model if isinstance(m, nn.Linear)][-1]
seen = {}
last_fc.register_forward_hook(lambda module, inputs, output: seen.update(h=inputs[0]))  # (N, 4096)
with torch.no_grad():
    logits = model(image)  # (N, 1000)
print("A: input", tuple(image.shape), "-> logits", tuple(logits.shape))
assert logits.shape == (2, 1000) and torch.isfinite(logits).all()
# The output is the raw scores of the last layer, W h + b (logits), not probabilities: nn.CrossEntropyLoss
# applies log-softmax itself, so a soft-max in the model would be applied twice
torch.testing.assert_close(logits, seen["h"] @ last_fc.weight.T + last_fc.bias)
# --8<-- [end:model]


def count_params(cfg, batch_norm=False):
    with torch.device("meta"):  # shapes only: nothing is allocated or initialised
        return sum(p.numel() for p in make_vgg(cfg, batch_norm).parameters())


# Table 2: "Number of parameters (in millions)"
TABLE2_MILLIONS = {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}
# torchvision's published counts (vgg11/13/16/19 = A/B/D/E)
TORCHVISION = {
    ("A", False): 132_863_336, ("A", True): 132_868_840,  # vgg11, vgg11_bn
    ("B", False): 133_047_848, ("B", True): 133_053_736,  # vgg13, vgg13_bn
    ("D", False): 138_357_544, ("D", True): 138_365_992,  # vgg16, vgg16_bn
    ("E", False): 143_667_240, ("E", True): 143_678_248,  # vgg19, vgg19_bn
}
for name, cfg in CFGS.items():
    plain, with_bn = count_params(cfg), count_params(cfg, batch_norm=True)
    print(f"{name:>5}: {plain:>11,} parameters ({plain / 1e6:.1f}M; Table 2: {TABLE2_MILLIONS[name]}M), "
          f"with batch norm {with_bn:,}")
    assert round(plain / 1e6) == TABLE2_MILLIONS[name]
    # batch norm adds a scale and a shift per channel of every convolution
    assert with_bn - plain == 2 * sum(int(item.split("-")[1]) for item in convs[name])
    if (name, False) in TORCHVISION:
        assert plain == TORCHVISION[(name, False)] and with_bn == TORCHVISION[(name, True)]
print("Table 2 and torchvision's counts reproduced")
# C is D with the last 3x3 convolution of stages 3, 4, 5 made 1x1: 8 C_in C_out fewer weights in each
c_from_d = TORCHVISION[("D", False)] - 8 * (256 * 256 + 512 * 512 + 512 * 512)
assert count_params(CFGS["C"]) == c_from_d, (count_params(CFGS["C"]), c_from_d)


# Where the parameters and the computation sit in D (VGG-16): the FC layers hold most weights,
# the convolutions do almost all the multiply-accumulates (MACs) for one 224 x 224 image
def macs_per_layer(cfg):
    macs = []

    def count(module, inputs, output):
        if isinstance(module, nn.Conv2d):  # each output value: C_in * k * k MACs
            macs.append(("conv", output[0].numel() * module.in_channels * module.kernel_size[0] ** 2))
        elif isinstance(module, nn.Linear):
            macs.append(("fc", module.in_features * module.out_features))

    with torch.device("meta"):
        net = make_vgg(cfg)
        for layer in net:
            layer.register_forward_hook(count)
        net(torch.empty(1, 3, 224, 224))
    return macs


macs = macs_per_layer(CFGS["D"])
conv_macs = sum(v for kind, v in macs if kind == "conv")
fc_macs = sum(v for kind, v in macs if kind == "fc")
# the same by hand, stage by stage: H_s = W_s = 224 / 2^s, MACs = H_s W_s C_in C_out 3^2 per convolution
by_stage, c_in = [], 3
for s_idx, stage in enumerate(CFGS["D"]):
    size, stage_macs = 224 // 2**s_idx, 0
    for item in stage:
        c_out = int(item.split("-")[1])
        stage_macs += size * size * c_in * c_out * 3 * 3
        c_in = c_out
    by_stage.append(stage_macs)
print("D conv GMACs per stage:", [round(v / 1e9, 2) for v in by_stage],
      f"total {conv_macs / 1e9:.2f}; FC {fc_macs / 1e9:.3f} GMACs")
assert conv_macs == sum(by_stage), (conv_macs, sum(by_stage))
assert 15.3 <= conv_macs / 1e9 < 15.4 and abs(fc_macs / 1e9 - 0.12) < 0.005  # ~15.3 vs ~0.12 GMACs
fc_params = (25088 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)  # 123,642,856
with torch.device("meta"):
    fcs = [m for m in make_vgg(CFGS["D"]) if isinstance(m, nn.Linear)]
assert [sum(p.numel() for p in m.parameters()) for m in fcs] == [102_764_544, 16_781_312, 4_097_000]
assert sum(sum(p.numel() for p in m.parameters()) for m in fcs) == fc_params
# the heaviest layer of all is the first FC layer (25088 -> 4096): about 74% of D's parameters
with torch.device("meta"):
    sizes = [(type(m).__name__, i, sum(p.numel() for p in m.parameters())) for i, m in enumerate(make_vgg(CFGS["D"]))]
heaviest = max(sizes, key=lambda s: s[2])
first_fc = next(s for s in sizes if s[0] == "Linear")
print(f"D: heaviest layer #{heaviest[1]} ({heaviest[0]}), {heaviest[2]:,} parameters = "
      f"{heaviest[2] / count_params(CFGS['D']):.1%} of the model")
assert heaviest == first_fc and heaviest[2] == 25088 * 4096 + 4096
conv_share = 1 - fc_params / count_params(CFGS["D"])
print(f"D: FC layers {fc_params:,} parameters; convolutions {conv_share:.1%} of the parameters, "
      f"{conv_macs / (conv_macs + fc_macs):.1%} of the MACs")
assert 0.10 < conv_share < 0.11 and conv_macs / (conv_macs + fc_macs) > 0.99

# Figure: parameters per configuration, built here and in the paper's Table 2
import os  # noqa: E402  (the figure needs these; the model above does not)
import tempfile  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402
import koreanize_matplotlib  # noqa: E402,F401  Korean labels: bundles NanumGothic

names = list(CFGS)
built = [count_params(CFGS[name]) / 1e6 for name in names]
fig, ax = plt.subplots(figsize=(6.4, 3.2))
x = torch.arange(len(names)).tolist()
ax.bar([i - 0.2 for i in x], built, width=0.4, label="여기서 만든 모델")
ax.bar([i + 0.2 for i in x], [TABLE2_MILLIONS[name] for name in names], width=0.4, label="논문 Table 2")
ax.set(xticks=x, xticklabels=names, ylim=(120, 150), ylabel="파라미터 수 (백만)",
       title="VGG 구성별 파라미터 수")
ax.legend(loc="upper left")
alt = ("VGG 구성 A, A-LRN, B, C, D, E의 파라미터 수(백만 단위) 막대그래프. 여기서 만든 모델과 논문 Table 2를 "
       "나란히 그렸고, 쌍마다 일치하며 1억 3300만 개(A)부터 1억 4400만 개(E)까지입니다.")
# Saved where SNIPPET_OUTPUT_DIR points (the site build collects that folder), else in a temporary folder
out_dir = os.environ.get("SNIPPET_OUTPUT_DIR") or tempfile.mkdtemp()
# Lay the text out, then record the smallest font size used (the site checks it is readable at page width)
fig.canvas.draw()
min_pt = min(t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip())
fig.savefig(os.path.join(out_dir, "vgg_params.png"), dpi=200, bbox_inches="tight",
            metadata={"Description": alt, "KB-Min-Font-Pt": str(min_pt)})
plt.close(fig)
print("figure: vgg_params.png")
# --8<-- [end:params]


# --8<-- [start:design]
import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"


def receptive_field(L, k):
    """Measured: the input pixels that reach one output pixel of L stacked k x k convolutions (stride 1)."""
    net = nn.Sequential(*[nn.Conv2d(1, 1, k, padding=k // 2, bias=False) for _ in range(L)]).double().to(device)
    for conv in net:
        nn.init.constant_(conv.weight, 1.0)  # positive weights: no cancellation hides a pixel
    x = torch.zeros(1, 1, 41, 41, dtype=torch.float64, device=device, requires_grad=True)  # (N, C, H, W)
    net(x)[0, 0, 20, 20].backward()  # one output pixel in the middle
    rows = x.grad[0, 0].abs().sum(dim=1).nonzero()  # the rows that influence it
    return int(rows.max() - rows.min()) + 1


for k in (3, 5, 7):
    for L in (1, 2, 3, 4):
        # r_L = 1 + L (k - 1)
        rf = 1 + L * (k - 1)
        assert receptive_field(L, k) == rf, (L, k, receptive_field(L, k), rf)
print("receptive field of L stacked 3x3 convolutions:", {L: receptive_field(L, 3) for L in (1, 2, 3)})
assert receptive_field(2, 3) == receptive_field(1, 5) and receptive_field(3, 3) == receptive_field(1, 7)

# The same field for fewer weights (C channels in and out, no bias): three 3x3 layers 27 C^2 vs one
# 7x7 layer 49 C^2; two 3x3 layers 18 C^2 vs one 5x5 layer 25 C^2
C = 64


def weights(L, k):
    return sum(p.numel() for p in nn.Sequential(*[nn.Conv2d(C, C, k, bias=False) for _ in range(L)]).parameters())


print(f"C={C}: three 3x3 layers {weights(3, 3):,} weights, one 7x7 layer {weights(1, 7):,}")
assert (weights(3, 3), weights(1, 7)) == (27 * C**2, 49 * C**2)
assert (weights(2, 3), weights(1, 5)) == (18 * C**2, 25 * C**2)
# --8<-- [end:design]
