"""Q1: what `self.modules()` yields, and which sub-modules `init_param` reaches.

The meeting's model (a `self.layers` list copied into an `nn.Sequential` with
`add_module("%s_%02d" % (type(layer).__name__.lower(), l_idx), layer)`, then
`init_param()` looping over `self.modules()`) completed into a program.

Sources:
- PyTorch docs, torch.nn.Module: `modules()`, `named_modules()`, `children()`, `add_module()`
  (https://pytorch.org/docs/stable/generated/torch.nn.Module.html)
- PyTorch docs, torch.nn.ModuleList (https://pytorch.org/docs/stable/generated/torch.nn.ModuleList.html)
"""

# --8<-- [start:model]
import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"


class ConvolutionalNeuralNetworkClass(nn.Module):
    def __init__(self, xdim=(1, 28, 28), ksize=3, cdims=(8, 16), hdims=(1024,), ydim=10):
        super().__init__()
        self.ydim = ydim
        self.layers = []  # a plain Python list: registers nothing by itself
        prev_cdim = xdim[0]
        for cdim in cdims:
            self.layers.append(nn.Conv2d(prev_cdim, cdim, kernel_size=ksize, padding=ksize // 2))
            self.layers.append(nn.ReLU(True))
            self.layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            prev_cdim = cdim
        self.layers.append(nn.Flatten())
        # each max-pool halves H and W
        prev_dim = prev_cdim * (xdim[1] // 2 ** len(cdims)) * (xdim[2] // 2 ** len(cdims))
        for hdim in hdims:
            self.layers.append(nn.Linear(prev_dim, hdim, bias=True))
            self.layers.append(nn.ReLU(True))
            prev_dim = hdim  # 1024, as in the meeting's fragment
        # Final layer (without activation)
        self.layers.append(nn.Linear(prev_dim, self.ydim, bias=True))

        # Concatenate all layers: add_module is what registers them (under self.net)
        self.net = nn.Sequential()
        for l_idx, layer in enumerate(self.layers):
            layer_name = "%s_%02d" % (type(layer).__name__.lower(), l_idx)
            self.net.add_module(layer_name, layer)

        self.init_param()  # initialize parameters

    def init_param(self):
        for m in self.modules():  # nn.Module.modules(): self, self.net, then every layer in self.net
            if isinstance(m, nn.Conv2d):  # init conv
                nn.init.kaiming_normal_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):  # init dense
                nn.init.kaiming_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.net(x)


model = ConvolutionalNeuralNetworkClass().to(device)
x = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0)).to(device)  # (N, C, H, W)
print("logits:", tuple(model(x).shape))  # (2, 10)

# modules(): the model itself first, then depth-first every registered sub-module
mods = list(model.modules())
assert mods[0] is model and mods[1] is model.net
# the same objects, reached through self.net, not through self.layers
assert mods[2:] == model.layers, [type(m).__name__ for m in mods]
# children(): one level down only
assert list(model.children()) == [model.net]
# named_modules(): dotted names; the model itself is ""
names = [name for name, _ in model.named_modules()]
print("named_modules():", names[:4], "...", names[-1])
assert names[:3] == ["", "net", "net.conv2d_00"] and names[-1] == "net.linear_09"
assert not any(name.startswith("layers") for name in names)  # the list is not a sub-module

# init_param reached every Conv2d and Linear: all biases were zeroed (PyTorch's default init is not zero)
weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
assert len(weighted) == 4
assert all(torch.count_nonzero(m.bias) == 0 for m in weighted), "a layer kept PyTorch's default (non-zero) bias"
print(f"init_param initialised {len(weighted)} layers:", [type(m).__name__ for m in weighted])

# ... and their weights: kaiming_normal_ (fan_in, ReLU gain sqrt(2)) draws N(0, 2 / fan_in), fan_in = C_in k k or
# in_features. PyTorch's default (kaiming_uniform_ with a = sqrt(5)) has std 1 / sqrt(3 fan_in), sqrt(6) times smaller.
for m in weighted:
    w = m.weight.detach().flatten()
    fan_in = m.weight[0].numel()
    target = (2 / fan_in) ** 0.5
    # the sample std of N normal values is within 4 / sqrt(2 N) of the true one (relative) but for 1 in 15,000
    tol = 4 / (2 * w.numel()) ** 0.5
    print(f"{type(m).__name__:>6} fan_in {fan_in:>4}: weight std {w.std().item():.4f}, sqrt(2 / fan_in) = {target:.4f}")
    assert abs(w.std().item() / target - 1) < tol, (m, w.std().item(), target)
    assert abs(w.mean().item()) < 4 * target / w.numel() ** 0.5, (m, w.mean().item())
# --8<-- [end:model]

# --8<-- [start:registration]
import torch
import torch.nn as nn

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"


class FourWays(nn.Module):
    """One Linear per way of keeping a layer; only the plain list fails to register it."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)  # attribute assignment: nn.Module.__setattr__ registers it
        self.add_module("added", nn.Linear(4, 4))  # add_module: registered under "added"
        self.blocks = nn.ModuleList([nn.Linear(4, 4)])  # inside nn.ModuleList: registered
        self.plain = [nn.Linear(4, 4)]  # inside a Python list: NOT registered
        self.init_param()

    def init_param(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        for layer in [self.fc, self.added, self.blocks[0], self.plain[0]]:
            x = layer(x)
        return x


model = FourWays()
registered = [name for name, _ in model.named_modules()]
print("named_modules():", registered)
assert registered == ["", "fc", "added", "blocks", "blocks.0"], registered

# init_param reached the three registered layers and missed the one in the plain list
for layer in [model.fc, model.added, model.blocks[0]]:
    assert torch.count_nonzero(layer.bias) == 0
hidden = model.plain[0]
assert torch.count_nonzero(hidden.bias) > 0  # still PyTorch's default init
assert all(m is not hidden for m in model.modules())

# its parameters are absent from model.parameters(): an optimizer would never update them
param_ids = {id(p) for p in model.parameters()}
assert id(hidden.weight) not in param_ids and id(hidden.bias) not in param_ids
assert len(param_ids) == 3 * 2  # weight + bias of the three registered layers
assert not any(key.startswith("plain") for key in model.state_dict())  # nor saved by state_dict()

# and .to() / .double() do not convert it: the forward pass then fails on mixed dtypes
model = model.to(device).double()
assert model.fc.weight.dtype == torch.float64 and hidden.weight.dtype == torch.float32
try:
    model(torch.randn(2, 4, dtype=torch.float64, device=device))  # (N, 4)
    raise AssertionError("the unregistered layer was expected to fail")
except RuntimeError as err:
    print("forward after .double():", type(err).__name__, "-", str(err).splitlines()[0])

# One module object registered under two names is listed once: modules() skips what it has seen
shared = nn.Linear(4, 4)
twice = nn.Sequential(shared, nn.ReLU(), shared)  # the same Linear at positions 0 and 2
print("modules():", [type(m).__name__ for m in twice.modules()])
assert [type(m).__name__ for m in twice.modules()] == ["Sequential", "Linear", "ReLU"]
assert [name for name, _ in twice.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
assert len(list(twice.parameters())) == 2  # its weight and bias are counted once too
# --8<-- [end:registration]
