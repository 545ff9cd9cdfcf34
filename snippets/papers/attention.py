"""Attention Is All You Need: attention by hand against PyTorch, the model size, the learning rate.

- Scaled dot-product attention (Sec. 3.2.1, eq. 1) equals F.scaled_dot_product_attention, with and
  without a causal mask. Mask conventions differ: for F.scaled_dot_product_attention a boolean
  mask is True where attention is ALLOWED; for nn.MultiheadAttention True means BLOCKED.
- Multi-head attention (Sec. 3.2.2) equals nn.MultiheadAttention with the same weights
  (in_proj_weight stacks W^Q, W^K, W^V; out_proj is W^O).
- The base model's parameter count against Table 3 (65M), the big model's (213M).
- The rest of the model as The Annotated Transformer builds it: sinusoidal positional encoding
  (Sec. 3.5) against a second computation, with the check that PE(pos + k) is a linear function of
  PE(pos); an encoder layer in post-LN (the paper) and pre-LN form against
  nn.TransformerEncoderLayer, with the shape of one batch at each step; label smoothing (Sec. 5.4)
  against F.cross_entropy(label_smoothing=...), in PyTorch's and The Annotated Transformer's
  conventions.
- The Annotated Transformer's copy task: a one-layer encoder-decoder learns to copy random
  sequences in 200 steps on a CPU; greedy decoding copies held-out sequences, an untrained model does not.
- The warm-up learning rate of Sec. 5.3 (eq. 3) as a torch.optim.lr_scheduler.LambdaLR.

Sources:
- Vaswani et al., "Attention Is All You Need", NeurIPS 2017 (arXiv:1706.03762): Sec. 3.1-3.5
  (3.4: shared embedding and pre-softmax weights), 5.4 (label smoothing), 5.1 (shared source-target vocabulary of about
  37000 tokens), 5.3 (eq. 3), Table 3
- PyTorch docs: torch.nn.functional.scaled_dot_product_attention, torch.nn.MultiheadAttention,
  torch.nn.Transformer, torch.nn.TransformerEncoderLayer, torch.nn.functional.cross_entropy,
  torch.optim.lr_scheduler.LambdaLR (https://pytorch.org/docs/stable/)
- The Annotated Transformer (Harvard NLP, 2018; 2022 revision): positional encoding, LabelSmoothing,
  the synthetic copy task (http://nlp.seas.harvard.edu/annotated-transformer/)
"""

# --8<-- [start:sdpa]
import math
import os
import tempfile

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt
import koreanize_matplotlib  # noqa: F401  Korean labels: bundles NanumGothic

import torch
import torch.nn.functional as F

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
# On NVIDIA GPUs compare in full float32: TF32 off (no effect on the CPU)
if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
    torch.backends.cuda.matmul.fp32_precision = "ieee"
    torch.backends.cudnn.conv.fp32_precision = "ieee"
else:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved

B, h, T, d_k = 2, 4, 6, 8
q, k, v = (torch.randn(B, h, T, d_k, generator=gen).to(device) for _ in range(3))  # (B, h, T, d_k) each


def attention(q, k, v, allowed=None):
    # Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, h, T, T)
    if allowed is not None:
        scores = scores.masked_fill(~allowed, float("-inf"))  # a blocked position gets weight 0
    return torch.softmax(scores, dim=-1) @ v  # (B, h, T, d_k)


torch.testing.assert_close(attention(q, k, v), F.scaled_dot_product_attention(q, k, v))

# causal: position i may attend to positions j <= i
allowed = torch.tril(torch.ones(T, T, dtype=torch.bool, device=device))  # (T, T), True = allowed
causal = attention(q, k, v, allowed)
torch.testing.assert_close(causal, F.scaled_dot_product_attention(q, k, v, is_causal=True))
torch.testing.assert_close(causal, F.scaled_dot_product_attention(q, k, v, attn_mask=allowed))
# the first position sees only itself
torch.testing.assert_close(causal[..., 0, :], v[..., 0, :])
print("scaled dot-product attention by hand == F.scaled_dot_product_attention (no mask, causal)")
print("F.scaled_dot_product_attention: boolean attn_mask True = allowed\n", allowed.int().cpu())

# Why divide by sqrt(d_k) (footnote 4): with q_i, k_i independent, mean 0, variance 1,
#   Var(q . k) = sum_i Var(q_i k_i) = sum_i E[q_i^2] E[k_i^2] = d_k
for d in (8, 64, 512):
    qs, ks = torch.randn(20000, d, generator=gen, dtype=torch.float64), torch.randn(20000, d, generator=gen, dtype=torch.float64)
    dots = (qs * ks).sum(dim=-1)  # (20000,) dot products of random unit-variance vectors
    print(f"d_k = {d:>3}: Var(q . k) = {dots.var().item():7.2f}, Var(q . k / sqrt(d_k)) = {(dots / math.sqrt(d)).var().item():.3f}")
    assert abs(dots.var().item() / d - 1) < 0.05 and abs((dots / math.sqrt(d)).var().item() - 1) < 0.05

# The attention weights of the first head of the first sequence, without and with the causal mask
scores = q[0, 0] @ k[0, 0].T / math.sqrt(d_k)  # (T, T)
weights = {"no mask": torch.softmax(scores, dim=-1),
           "causal mask": torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)}
# the pictured weights are the ones the checked attention applies to V
torch.testing.assert_close(weights["no mask"] @ v[0, 0], attention(q, k, v)[0, 0])
torch.testing.assert_close(weights["causal mask"] @ v[0, 0], causal[0, 0])
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.0), constrained_layout=True)
titles = {"no mask": "마스크 없음", "causal mask": "인과 마스크"}
for ax, (name, w) in zip(axes, weights.items()):
    image = ax.imshow(w.cpu(), vmin=0, vmax=1, cmap="viridis")
    ax.set(title=titles[name], xlabel="키 위치 j", ylabel="쿼리 위치 i")
fig.colorbar(image, ax=axes, shrink=0.8, label="어텐션 가중치")
alt = ("위치 6개의 어텐션 가중치 히트맵 두 개: 마스크가 없으면 모든 쿼리가 모든 키에 가중치를 주고, "
       "인과 마스크를 쓰면 위 삼각형이 0이어서 위치 i는 j ≤ i인 위치에만 가중치를 줍니다.")
# Saved where SNIPPET_OUTPUT_DIR points (the site build collects that folder), else in a temporary folder
out_dir = os.environ.get("SNIPPET_OUTPUT_DIR") or tempfile.mkdtemp()
# Lay the text out, then record the smallest font size used (the site checks it is readable at page width)
fig.canvas.draw()
min_pt = min(t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip())
fig.savefig(os.path.join(out_dir, "attention_weights.png"), dpi=200, bbox_inches="tight",
            metadata={"Description": alt, "KB-Min-Font-Pt": str(min_pt)})
plt.close(fig)
print("figure: attention_weights.png")
# --8<-- [end:sdpa]

# --8<-- [start:mha]
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
# On NVIDIA GPUs compare in full float32: TF32 off (no effect on the CPU)
if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
    torch.backends.cuda.matmul.fp32_precision = "ieee"
    torch.backends.cudnn.conv.fp32_precision = "ieee"
else:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved

B, T, d_model, h = 2, 5, 16, 4
d_k = d_model // h
mha = nn.MultiheadAttention(d_model, h, batch_first=True).to(device).eval()
x = torch.randn(B, T, d_model, generator=gen).to(device)  # (B, T, d_model)

# nn.MultiheadAttention's boolean attn_mask: True = BLOCKED (the opposite of F.scaled_dot_product_attention)
blocked = torch.triu(torch.ones(T, T, dtype=torch.bool, device=device), diagonal=1)  # (T, T)

# By hand with the module's weights. in_proj_weight stacks W^Q, W^K, W^V, each applied as x @ W.T
W_q, W_k, W_v = mha.in_proj_weight.chunk(3)  # 3 x (d_model, d_model)
b_q, b_k, b_v = mha.in_proj_bias.chunk(3)  # 3 x (d_model,)


def split_heads(t):
    return t.view(B, T, h, d_k).transpose(1, 2)  # (B, T, d_model) -> (B, h, T, d_k)


# head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)
q = split_heads(x @ W_q.T + b_q)  # (B, h, T, d_k)
k = split_heads(x @ W_k.T + b_k)  # (B, h, T, d_k)
v = split_heads(x @ W_v.T + b_v)  # (B, h, T, d_k)
scores = (q @ k.transpose(-2, -1) / math.sqrt(d_k)).masked_fill(blocked, float("-inf"))  # (B, h, T, T)
weights = torch.softmax(scores, dim=-1)  # (B, h, T, T)
heads = weights @ v  # (B, h, T, d_k)
# MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O
concat = heads.transpose(1, 2).reshape(B, T, d_model)  # (B, T, d_model)
out = mha.out_proj(concat)  # (B, T, d_model)

with torch.no_grad():
    out_torch, weights_torch = mha(x, x, x, attn_mask=blocked, average_attn_weights=False)
torch.testing.assert_close(out, out_torch)
torch.testing.assert_close(weights, weights_torch)  # (B, h, T, T) per head
# the same heads through F.scaled_dot_product_attention need the inverted mask: True = allowed
torch.testing.assert_close(heads, F.scaled_dot_product_attention(q, k, v, attn_mask=~blocked))
print("multi-head attention by hand == nn.MultiheadAttention(batch_first=True); output", tuple(out.shape))
print("nn.MultiheadAttention: boolean attn_mask True = blocked\n", blocked.int().cpu())
# --8<-- [end:mha]

# --8<-- [start:model]
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
# On NVIDIA GPUs compare in full float32: TF32 off (no effect on the CPU)
if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
    torch.backends.cuda.matmul.fp32_precision = "ieee"
    torch.backends.cudnn.conv.fp32_precision = "ieee"
else:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved

# Sizes all different from each other, so that two axes swapped show up in the shapes
B, T, d_model, h, d_ff = 2, 7, 24, 4, 32
d_k = d_model // h  # 6


def positional_encoding(T, d):
    # PE(pos, 2i) = sin(pos / 10000^(2i/d)),  PE(pos, 2i+1) = cos(pos / 10000^(2i/d))   (Sec. 3.5)
    pos = torch.arange(T, dtype=torch.float64)[:, None]  # (T, 1)
    omega = 10000 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
    pe = torch.zeros(T, d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * omega), torch.cos(pos * omega)
    return pe  # (T, d)


pe = positional_encoding(50, d_model)  # (50, d_model)
# The same numbers another way, from the paper's other description: wavelengths in a geometric progression
# from 2 pi (pair 0) by the factor 10000^(2/d), and each pair (sin, cos) as (Im, Re) of exp(i 2 pi pos / wavelength)
wavelength = 2 * math.pi * torch.logspace(0, 1 - 2 / d_model, d_model // 2, base=10000, dtype=torch.float64)  # (d/2,)
angle = 2 * math.pi * torch.arange(50, dtype=torch.float64)[:, None] / wavelength  # (50, d/2)
pair = torch.view_as_real(torch.exp(1j * angle))  # (50, d/2, 2): (Re, Im) = (cos, sin)
torch.testing.assert_close(pe, pair.flip(-1).reshape(50, d_model))  # sin, cos, sin, cos, ...

# PE(pos + k) is a linear function of PE(pos): each (sin, cos) pair turns by the angle k omega_i,
#   sin(a + b) = sin a cos b + cos a sin b,  cos(a + b) = cos a cos b - sin a sin b
omega = 10000 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (d/2,)
for k in (1, 5, 17):
    c, s = torch.cos(k * omega), torch.sin(k * omega)  # (d/2,)
    M = torch.zeros(d_model, d_model, dtype=torch.float64)  # block-diagonal, one 2x2 rotation per pair; no pos in it
    M[0::2, 0::2], M[0::2, 1::2] = torch.diag(c), torch.diag(s)
    M[1::2, 0::2], M[1::2, 1::2] = torch.diag(-s), torch.diag(c)
    torch.testing.assert_close(pe[:-k] @ M.T, pe[k:])  # for every pos at once
print("PE = the geometric-progression computation; PE(pos + k) = M_k PE(pos) for k = 1, 5, 17, M_k independent of pos")

seen = {}  # step -> the shape one batch has there (filled by encoder_layer below)


def encoder_layer(x, layer, norm_first):
    """One encoder layer by hand, with the weights of an nn.TransformerEncoderLayer (dropout 0)."""

    def self_attention(x):  # (B, T, d_model) -> (B, T, d_model)
        W_q, W_k, W_v = layer.self_attn.in_proj_weight.chunk(3)
        b_q, b_k, b_v = layer.self_attn.in_proj_bias.chunk(3)
        q, k, v = (x @ W.T + b for W, b in [(W_q, b_q), (W_k, b_k), (W_v, b_v)])  # (B, T, d_model) each
        seen["Q, K, V"] = q.shape
        q, k, v = (t.view(B, T, h, d_k) for t in (q, k, v))  # (B, T, h, d_k): the last axis cut into h heads
        seen["split"] = q.shape
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, h, T, d_k): each head a batch of its own
        seen["heads first"] = q.shape
        scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (B, h, T, T)
        seen["scores"] = scores.shape
        heads = torch.softmax(scores, dim=-1) @ v  # (B, h, T, d_k)
        seen["head outputs"] = heads.shape
        heads = heads.transpose(1, 2)  # (B, T, h, d_k): back to time first
        seen["time first"] = heads.shape
        concat = heads.reshape(B, T, d_model)  # (B, T, d_model): Concat(head_1, ..., head_h)
        seen["concat"] = concat.shape
        return layer.self_attn.out_proj(concat)  # (B, T, d_model): times W^O

    def ffn(x):  # FFN(x) = max(0, x W_1 + b_1) W_2 + b_2
        hidden = torch.relu(layer.linear1(x))  # (B, T, d_ff)
        seen["FFN hidden"] = hidden.shape
        return layer.linear2(hidden)  # (B, T, d_model)

    seen["input"] = x.shape
    if norm_first:  # pre-LN: x + Sublayer(LayerNorm(x))
        x = x + self_attention(layer.norm1(x))
        x = x + ffn(layer.norm2(x))
    else:  # post-LN, as in the paper: LayerNorm(x + Sublayer(x))
        x = layer.norm1(x + self_attention(x))
        x = layer.norm2(x + ffn(x))
    seen["output"] = x.shape
    return x


x = torch.randn(B, T, d_model, generator=gen).to(device)  # (B, T, d_model)
layers = {norm_first: nn.TransformerEncoderLayer(d_model, h, d_ff, dropout=0.0, batch_first=True,
                                                 norm_first=norm_first).to(device).train()
          for norm_first in (False, True)}  # train mode: the plain (not fused) path, dropout 0

# The shape table on the page, step by step, against the shapes one batch really had
SHAPES = {"input": "(B, T, d_model)", "Q, K, V": "(B, T, d_model)", "split": "(B, T, h, d_k)",
          "heads first": "(B, h, T, d_k)", "scores": "(B, h, T, T)", "head outputs": "(B, h, T, d_k)",
          "time first": "(B, T, h, d_k)", "concat": "(B, T, d_model)", "FFN hidden": "(B, T, d_ff)",
          "output": "(B, T, d_model)"}
sizes = {"B": B, "T": T, "d_model": d_model, "h": h, "d_k": d_k, "d_ff": d_ff}
encoder_layer(x, layers[False], norm_first=False)
assert list(seen) == list(SHAPES), list(seen)  # every step, in the order one batch meets them
for step, shape in SHAPES.items():
    print(f"{step:>12}: {shape:<15} = {tuple(seen[step])}")
    assert seen[step] == tuple(sizes[name] for name in shape.strip("()").split(", ")), (step, seen[step])

for norm_first, layer in layers.items():
    torch.testing.assert_close(encoder_layer(x, layer, norm_first), layer(x))
    print(f"encoder layer by hand == nn.TransformerEncoderLayer(norm_first={norm_first}) ({'pre' if norm_first else 'post'}-LN)")

# Label smoothing (Sec. 5.4, eps_ls = 0.1), PyTorch's convention: the target puts 1 - eps on the true class
# and spreads eps over all V classes (the true one too); the loss is the cross entropy with that distribution
V, eps_ls = 11, 0.1
logits = torch.randn(B * T, V, generator=gen).to(device)  # (B T, V)
target = torch.randint(0, V, (B * T,), generator=gen).to(device)  # (B T,)
log_p = F.log_softmax(logits, dim=-1)  # (B T, V)
smoothed = torch.full((B * T, V), eps_ls / V, device=device)
smoothed[torch.arange(B * T), target] += 1 - eps_ls
by_hand = -(smoothed * log_p).sum(dim=-1).mean()
torch.testing.assert_close(by_hand, F.cross_entropy(logits, target, label_smoothing=eps_ls))
print(f"label smoothing {eps_ls} by hand == F.cross_entropy(label_smoothing={eps_ls}): {by_hand.item():.4f}")

# The Annotated Transformer's convention: exactly 1 - eps on the true class, eps / (V - 1) on each other
# class (V - 2 when a padding class gets 0). Without padding that is PyTorch's with eps' = eps V / (V - 1):
#   1 - eps' + eps' / V = 1 - eps
annotated = torch.full((B * T, V), eps_ls / (V - 1), device=device)
annotated[torch.arange(B * T), target] = 1 - eps_ls
by_hand_annotated = -(annotated * log_p).sum(dim=-1).mean()
torch.testing.assert_close(by_hand_annotated, F.cross_entropy(logits, target, label_smoothing=eps_ls * V / (V - 1)))
# It trains with KL divergence, which is the cross entropy minus the target's entropy (no parameter in it)
entropy = -(annotated * annotated.log()).sum(dim=-1).mean()
torch.testing.assert_close(F.kl_div(log_p, annotated, reduction="batchmean"), by_hand_annotated - entropy)
print(f"The Annotated Transformer's smoothing == F.cross_entropy(label_smoothing={eps_ls * V / (V - 1):.4f}); KL = CE - {entropy.item():.4f}")
# --8<-- [end:model]

# --8<-- [start:copy]
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
# On NVIDIA GPUs compute in full float32: TF32 off (no effect on the CPU)
if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
    torch.backends.cuda.matmul.fp32_precision = "ieee"
    torch.backends.cudnn.conv.fp32_precision = "ieee"
else:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
gen = torch.Generator().manual_seed(0)  # data is drawn on the CPU, then moved

# The Annotated Transformer's first example: learn to copy random sequences. Tokens 1..10; token 0 is
# the start symbol the decoder reads first. A vocabulary of 11, sequences of length 10.
V, L, START = 11, 10, 0
d_model, h, d_ff, STEPS, BATCH = 32, 4, 64, 200, 32


def positional_encoding(T, d):
    # PE(pos, 2i) = sin(pos / 10000^(2i/d)),  PE(pos, 2i+1) = cos(pos / 10000^(2i/d))   (Sec. 3.5)
    pos = torch.arange(T, dtype=torch.float32)[:, None]  # (T, 1)
    omega = 10000 ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)  # (d/2,)
    pe = torch.zeros(T, d)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * omega), torch.cos(pos * omega)
    return pe  # (T, d)


class Copier(nn.Module):
    """Embeddings + positional encoding, one encoder and one decoder layer (nn.Transformer, post-LN), a linear output."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, d_model)  # one embedding for source and target (Sec. 3.4)
        nn.init.normal_(self.embed.weight, std=d_model**-0.5)  # times sqrt(d_model) below: unit scale at the start
        self.register_buffer("pe", positional_encoding(L, d_model))  # (L, d_model)
        self.body = nn.Transformer(d_model, h, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=d_ff,
                                   dropout=0.0, batch_first=True)
        self.out = nn.Linear(d_model, V)

    def forward(self, src, tgt_in):  # (N, L), (N, t) -> logits (N, t, V)
        t = tgt_in.shape[1]
        # decoder self-attention: position i must not see the positions after it (True = blocked)
        blocked = torch.triu(torch.ones(t, t, dtype=torch.bool, device=src.device), diagonal=1)  # (t, t)
        x = self.embed(src) * math.sqrt(d_model) + self.pe[:L]  # (N, L, d_model)
        y = self.embed(tgt_in) * math.sqrt(d_model) + self.pe[:t]  # (N, t, d_model)
        return self.out(self.body(x, y, tgt_mask=blocked))  # (N, t, V)


@torch.no_grad()
def greedy_copy(model, src):  # (N, L) -> (N, L); the decoder reads only its own earlier outputs
    model.eval()
    out = torch.full((src.shape[0], 1), START, device=src.device)  # (N, 1)
    for _ in range(L):
        next_token = model(src, out)[:, -1].argmax(dim=-1, keepdim=True)  # (N, 1): the most likely token
        out = torch.cat([out, next_token], dim=1)  # (N, t + 1)
    model.train()
    return out[:, 1:]


# fresh sequences from their own generator: held out from every training batch
held_out = torch.randint(1, V, (200, L), generator=torch.Generator().manual_seed(1)).to(device)  # (200, L)
model = Copier().to(device)
untrained = (greedy_copy(model, held_out) == held_out).float().mean().item()
opt = torch.optim.Adam(model.parameters(), lr=3e-3, betas=(0.9, 0.98), eps=1e-9)
losses = []
for step in range(STEPS):
    src = torch.randint(1, V, (BATCH, L), generator=gen).to(device)  # (BATCH, L), a new random batch
    # teacher forcing: the decoder reads the start symbol and then the answer, shifted right by one
    tgt_in = torch.cat([torch.full((BATCH, 1), START, device=device), src[:, :-1]], dim=1)  # (BATCH, L)
    loss = F.cross_entropy(model(src, tgt_in).reshape(-1, V), src.reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
copied = greedy_copy(model, held_out)  # (200, L)
trained = (copied == held_out).float().mean().item()
whole = (copied == held_out).all(dim=1).float().mean().item()  # sequences copied without a mistake
print(f"training loss: step 1 {losses[0]:.3f}, last 20 steps {sum(losses[-20:]) / 20:.4f}")
print("held out:", held_out[0].tolist(), "-> greedy:", copied[0].tolist())
print(f"held-out tokens copied: untrained {untrained:.3f}, after {STEPS} steps {trained:.3f} (chance {1 / (V - 1):.2f}); "
      f"whole sequences {whole:.3f}")
assert sum(losses[-20:]) / 20 < 0.1, "the training loss did not come down"
assert untrained < 0.5, "an untrained model passes the check: it cannot tell a trained one apart"
assert whole >= 0.8, f"greedy decoding copies {whole:.3f} of the held-out sequences whole ({trained:.3f} of the tokens)"
assert trained >= 0.95, f"greedy decoding copies {trained:.3f} of the held-out tokens"
# --8<-- [end:copy]

# --8<-- [start:masks]
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
# On NVIDIA GPUs compare in full float32: TF32 off (no effect on the CPU)
if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
    torch.backends.cuda.matmul.fp32_precision = "ieee"
    torch.backends.cudnn.conv.fp32_precision = "ieee"
else:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
gen = torch.Generator().manual_seed(0)  # inputs are drawn on the CPU, then moved

B, T, d_model, h = 2, 5, 16, 4
d_k = d_model // h
mha = nn.MultiheadAttention(d_model, h, batch_first=True).to(device).eval()
x = torch.randn(B, T, d_model, generator=gen).to(device)  # (B, T, d_model)

# Padding: the second sequence has 3 real tokens; positions 3 and 4 are padding.
# key_padding_mask (B, T): True = padding = BLOCKED as a key, like nn.MultiheadAttention's attn_mask
lengths = torch.tensor([5, 3], device=device)  # (B,)
key_padding_mask = torch.arange(T, device=device) >= lengths[:, None]  # (B, T)
with torch.no_grad():
    out_pad, w_pad = mha(x, x, x, key_padding_mask=key_padding_mask)  # w_pad: (B, T, T), mean over heads
    out_short, _ = mha(x[1:, :3], x[1:, :3], x[1:, :3])  # the second sequence without its padding
print("key_padding_mask (True = padding):\n", key_padding_mask.int().cpu())
assert (w_pad[1, :, 3:] == 0).all(), "a query attends to padding"
# the real tokens do not see the padding: the same output as the unpadded sequence
torch.testing.assert_close(out_pad[1, :3], out_short[0])

# A query that may attend to nothing (every key blocked): query 2
q, k, v = (torch.randn(B, h, T, d_k, generator=gen).to(device) for _ in range(3))  # (B, h, T, d_k) each
allowed = torch.ones(T, T, dtype=torch.bool, device=device)  # (T, T), True = allowed
allowed[2] = False
scores = (q @ k.transpose(-2, -1) / math.sqrt(d_k)).masked_fill(~allowed, float("-inf"))  # (B, h, T, T)
by_hand = torch.softmax(scores, dim=-1) @ v  # softmax of a row of -inf is 0 / 0
with sdpa_kernel(SDPBackend.MATH):  # PyTorch's reference kernel
    sdpa = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
print("fully masked row: by hand", by_hand[0, 0, 2, :2].tolist(), "| SDPA", sdpa[0, 0, 2, :2].tolist())
assert torch.isnan(by_hand[..., 2, :]).all() and not torch.isnan(by_hand[..., [0, 1, 3, 4], :]).any()
assert (sdpa[..., 2, :] == 0).all(), "F.scaled_dot_product_attention returns 0 for a fully masked row"
torch.testing.assert_close(sdpa[..., [0, 1, 3, 4], :], by_hand[..., [0, 1, 3, 4], :])

# nn.MultiheadAttention: NaN or not depends on the path it takes (PyTorch's CPU code; GPU kernels differ).
# need_weights=True computes the weights with softmax itself: NaN. In eval mode without autograd it takes
# the fused fast path: NaN too. In train mode with need_weights=False it calls SDPA: the heads are 0 and
# the output is out_proj(0) = out_proj.bias.
mha_cpu, x_cpu, blocked = mha.cpu(), x.cpu(), ~allowed.cpu()  # attn_mask: True = blocked
rows = {}
for mode in ("eval", "train"):
    mha_cpu.train(mode == "train")  # dropout is 0: train mode changes only the path
    for need_weights in (True, False):
        with torch.no_grad():
            rows[mode, need_weights] = mha_cpu(x_cpu, x_cpu, x_cpu, attn_mask=blocked, need_weights=need_weights)[0][:, 2]
        print(f"nn.MultiheadAttention {mode}, need_weights={need_weights}: fully masked row {rows[mode, need_weights][0, :2].tolist()}")
assert all(torch.isnan(rows[key]).all() for key in [("eval", True), ("eval", False), ("train", True)])
torch.testing.assert_close(rows["train", False], mha_cpu.out_proj.bias.expand(B, d_model))

# dropout_p is applied whenever it is non-zero: the function knows nothing of .train() / .eval(),
# so a module passes dropout_p=self.p if self.training else 0.0, as nn.MultiheadAttention does
class SelfAttention(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, q, k, v):
        with sdpa_kernel(SDPBackend.MATH):
            return F.scaled_dot_product_attention(q, k, v, dropout_p=self.p if self.training else 0.0)


layer = SelfAttention(p=0.5)
with sdpa_kernel(SDPBackend.MATH):
    no_drop = F.scaled_dot_product_attention(q, k, v)  # (B, h, T, d_k)
layer.eval()
print(f"SelfAttention(p=0.5).eval(): max |change| from no dropout {(layer(q, k, v) - no_drop).abs().max().item():.3f}")
torch.testing.assert_close(layer(q, k, v), no_drop)  # eval: no dropout
# --8<-- [end:masks]

# --8<-- [start:params]
import torch
import torch.nn as nn

torch.manual_seed(0)

# Assumptions, from the paper: N = 6 encoder and 6 decoder layers (post-norm, two LayerNorms per
# encoder layer, three per decoder layer); one shared source-target vocabulary of 37000 BPE tokens
# (Sec. 5.1) whose embedding matrix is shared by both embedding layers and the pre-softmax linear
# layer (Sec. 3.4; the output layer has no bias here); sinusoidal positions have no parameters.
VOCAB = 37000


def transformer_params(d_model, h, d_ff, N, vocab=VOCAB):
    # MHA: W^Q, W^K, W^V, W^O with biases = 4 (d^2 + d); FFN = 2 d d_ff + d_ff + d; LayerNorm = 2 d
    mha = 4 * (d_model * d_model + d_model)
    ffn = 2 * d_model * d_ff + d_ff + d_model
    norm = 2 * d_model
    encoder_layer = mha + ffn + 2 * norm
    decoder_layer = 2 * mha + ffn + 3 * norm  # self-attention + encoder-decoder attention
    return vocab * d_model + N * (encoder_layer + decoder_layer)


# The same count from modules: nn.Transformer's stacks (shapes only, on the meta device) + one embedding
with torch.device("meta"):
    body = nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                          batch_first=True)
    embedding = nn.Embedding(VOCAB, 512)  # shared: encoder input, decoder input, pre-softmax weights
n_body = sum(p.numel() for p in body.parameters())
n_final_norms = sum(p.numel() for p in [*body.encoder.norm.parameters(), *body.decoder.norm.parameters()])
# nn.Transformer adds a final LayerNorm after each stack, which the paper's model does not have
by_formula, by_modules = transformer_params(512, 8, 2048, 6), embedding.weight.numel() + n_body - n_final_norms
assert by_formula == by_modules, f"formula {by_formula:,} != modules {by_modules:,}"

# Table 3: base 65M parameters, big 213M. Tolerance 5%: the paper does not state its exact count
for name, (d_model, h, d_ff), table in [("base", (512, 8, 2048), 65e6), ("big", (1024, 16, 4096), 213e6)]:
    n = transformer_params(d_model, h, d_ff, N=6)
    print(f"{name}: {n:,} parameters = {n / 1e6:.1f}M (Table 3: {table / 1e6:.0f}M, {100 * (n / table - 1):+.1f}%)")
    assert abs(n / table - 1) < 0.05
# --8<-- [end:params]

# --8<-- [start:schedule]
import os
import tempfile

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt
import koreanize_matplotlib  # noqa: F401  Korean labels: bundles NanumGothic
import torch

torch.manual_seed(0)
d_model, warmup = 512, 4000


def lrate(step):
    # lrate = d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5)   (eq. 3)
    return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)


# As a LambdaLR: lr = base_lr * lr_lambda(epoch); base lr 1.0, and the scheduler counts from 0 while
# the paper's step_num starts at 1. Adam with beta1 = 0.9, beta2 = 0.98, eps = 1e-9 (Sec. 5.3)
param = torch.zeros(1, requires_grad=True)
opt = torch.optim.Adam([param], lr=1.0, betas=(0.9, 0.98), eps=1e-9)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=lambda epoch: lrate(epoch + 1))
used = []
for step in range(1, 12001):
    used.append(opt.param_groups[0]["lr"])  # the learning rate of training step `step`
    opt.step()  # no gradient: nothing changes, but the scheduler sees a step was taken
    sched.step()

steps = torch.arange(1, 12001, dtype=torch.float64)
peak = int(torch.tensor(used).argmax()) + 1
print(f"peak at step {peak}: lr {max(used):.3e}; lr at step 1 {used[0]:.3e}, at step 12000 {used[-1]:.3e}")
# Values computed independently of the code above: 512^-0.5 * 4000^-1.5 = 1.7469e-7 at step 1,
# (512 * 4000)^-0.5 = 6.9877e-4 at step 4000 (the peak, where both branches meet)
assert abs(used[0] - 1.747e-7) < 0.001e-7, used[0]
assert abs(used[4000 - 1] - 6.988e-4) < 0.001e-4, used[4000 - 1]
assert peak == warmup
# after the peak the first term: (512 * 8000)^-0.5 = 4.941e-4 at step 8000
assert abs(used[8000 - 1] - 4.941e-4) < 0.001e-4, used[8000 - 1]
fig, ax = plt.subplots(figsize=(6.4, 3.2))
ax.plot(steps, used, lw=1.5, label="LambdaLR (식 3), d_model=512")
ax.axvline(warmup, color="gray", ls="--", lw=1, label=f"warmup_steps = {warmup}")
ax.set(xlabel="학습 스텝", ylabel="학습률", title="Transformer의 학습률 스케줄")
ax.legend()
alt = (f"학습 스텝에 따른 학습률: 처음 {warmup}스텝 동안 선형으로 올라 최댓값 {max(used):.1e}에 이른 뒤, "
       f"스텝의 제곱근에 반비례해 줄어듭니다.")
# Saved where SNIPPET_OUTPUT_DIR points (the site build collects that folder), else in a temporary folder
out_dir = os.environ.get("SNIPPET_OUTPUT_DIR") or tempfile.mkdtemp()
# Lay the text out, then record the smallest font size used (the site checks it is readable at page width)
fig.canvas.draw()
min_pt = min(t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip())
fig.savefig(os.path.join(out_dir, "transformer_lr.png"), dpi=200, bbox_inches="tight",
            metadata={"Description": alt, "KB-Min-Font-Pt": str(min_pt)})
plt.close(fig)
print("figure: transformer_lr.png")
# --8<-- [end:schedule]
