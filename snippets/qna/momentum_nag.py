"""Q4: classical momentum vs Nesterov accelerated gradient (NAG), and PyTorch's form of each.

The meeting's notes (alpha = learning rate, beta = momentum):
    momentum:  a_{n+1} = beta * a_n + grad f(x_n)
    NAG:       a_{n+1} = beta * a_n + grad f(x_n - alpha * beta * a_n)   (gradient at the look-ahead point)
    both:      x_{n+1} = x_n - alpha * a_{n+1}
The only difference is where the gradient is taken. On a narrow valley NAG sees the slope on the
far side before it gets there and brakes earlier, so it overshoots less.

Sources:
- Sutskever, Martens, Dahl, Hinton, "On the importance of initialization and momentum in deep
  learning", ICML 2013, Sec. 2, eqs. (1)-(4) (classical momentum and NAG)
- PyTorch docs, torch.optim.SGD (https://pytorch.org/docs/stable/generated/torch.optim.SGD.html):
  buf = momentum * buf + g; nesterov: p -= lr * (g + momentum * buf), else p -= lr * buf
  (dampening = 0, the default)
"""

# --8<-- [start:update]
import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"


def grad_rosenbrock(x):
    # f(x, y) = (1 - x)^2 + 100 (y - x^2)^2
    # grad f = (-2 (1 - x) - 400 x (y - x^2),  200 (y - x^2))
    return torch.stack([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def step(x, a, grad_f, alpha, beta, nesterov):
    """One step of the meeting's update: (x_n, a_n) -> (x_{n+1}, a_{n+1})."""
    look = x - alpha * beta * a if nesterov else x  # NAG: the look-ahead point; momentum: where it stands
    # a_{n+1} = beta * a_n + grad f(look)
    a = beta * a + grad_f(look)
    # x_{n+1} = x_n - alpha * a_{n+1}
    return x - alpha * a, a


alpha, beta, steps = 1e-4, 0.9, 300
x0 = torch.tensor([-1.5, 2.0], dtype=torch.float64, device=device)  # (2,)

# By hand, the meeting's notation
paths = {}
for nesterov in (False, True):
    x, a = x0.clone(), torch.zeros_like(x0)  # a_0 = 0
    paths[nesterov] = []
    for n in range(steps):
        x, a = step(x, a, grad_rosenbrock, alpha, beta, nesterov)
        paths[nesterov].append((x, a))


def torch_sgd(nesterov):
    p = x0.clone().requires_grad_(True)
    opt = torch.optim.SGD([p], lr=alpha, momentum=beta, nesterov=nesterov, dampening=0)
    path = []
    for n in range(steps):
        opt.zero_grad()
        p.grad = grad_rosenbrock(p.detach())
        opt.step()
        path.append((p.detach().clone(), opt.state[p]["momentum_buffer"].clone()))
    return path


# Classical momentum: PyTorch's momentum_buffer is a_n and its parameter is x_n
for (x_hand, a_hand), (p, buf) in zip(paths[False], torch_sgd(nesterov=False)):
    torch.testing.assert_close(p, x_hand, rtol=0, atol=1e-6)
    torch.testing.assert_close(buf, a_hand, rtol=0, atol=1e-6)

# NAG: PyTorch does not store x_n. It stores the look-ahead point y_n = x_n - alpha * beta * a_n,
# where the gradient is taken. Substituting into the meeting's two lines (g_n = grad f(y_n)):
#   a_{n+1} = beta * a_n + g_n
#   y_{n+1} = x_{n+1} - alpha * beta * a_{n+1} = y_n - alpha * (g_n + beta * a_{n+1})
# which is exactly SGD(nesterov=True): buf = beta * buf + g; p -= lr * (g + beta * buf), with
# p = y_n, buf = a_n and y_0 = x_0 (a_0 = 0). So x_n = p + alpha * beta * buf.
for (x_hand, a_hand), (p, buf) in zip(paths[True], torch_sgd(nesterov=True)):
    torch.testing.assert_close(buf, a_hand, rtol=0, atol=1e-6)
    # x_n = y_n + alpha * beta * a_n
    torch.testing.assert_close(p + alpha * beta * buf, x_hand, rtol=0, atol=1e-6)

print(f"{steps} steps on Rosenbrock from {x0.tolist()}: the meeting's formulas == torch.optim.SGD")
print(f"  momentum:       x_{steps} = {[round(v, 6) for v in paths[False][-1][0].tolist()]}")
print(f"  NAG (nesterov): x_{steps} = {[round(v, 6) for v in paths[True][-1][0].tolist()]}")
# --8<-- [end:update]

# --8<-- [start:overshoot]
import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"

# An ill-conditioned quadratic: f(x) = (x_0^2 + 50 x_1^2) / 2, minimum at 0, x_1 is the steep axis
scales = torch.tensor([1.0, 50.0], dtype=torch.float64, device=device)  # (2,)


def grad_f(x):
    # grad f(x) = (x_0, 50 x_1)
    return scales * x


def step(x, a, grad_f, alpha, beta, nesterov):
    """One step of the meeting's update (the function of the first section)."""
    look = x - alpha * beta * a if nesterov else x  # NAG: the look-ahead point; momentum: where it stands
    # a_{n+1} = beta * a_n + grad f(look)
    a = beta * a + grad_f(look)
    # x_{n+1} = x_n - alpha * a_{n+1}
    return x - alpha * a, a


def run(nesterov, alpha=0.018, beta=0.9, steps=100):
    x = torch.tensor([-10.0, 1.0], dtype=torch.float64, device=device)  # (2,)
    a = torch.zeros_like(x)
    path = [x]
    for n in range(steps):
        x, a = step(x, a, grad_f, alpha, beta, nesterov)
        path.append(x)
    return torch.stack(path)  # (steps + 1, 2)


def torch_path(nesterov, alpha=0.018, beta=0.9, steps=100):
    """The same iterates from torch.optim.SGD; for NAG x_n = p + alpha * beta * buf (first section)."""
    p = torch.tensor([-10.0, 1.0], dtype=torch.float64, device=device, requires_grad=True)
    opt = torch.optim.SGD([p], lr=alpha, momentum=beta, nesterov=nesterov)
    path = [p.detach().clone()]
    for n in range(steps):
        p.grad = grad_f(p.detach())
        opt.step()
        buf = opt.state[p]["momentum_buffer"]
        path.append(p.detach() + alpha * beta * buf if nesterov else p.detach().clone())
    return torch.stack(path)  # (steps + 1, 2)


results = {}
for name, nesterov in [("momentum", False), ("NAG", True)]:
    path = run(nesterov)
    # the copy of the update used here is the one checked against torch.optim.SGD
    torch.testing.assert_close(path, torch_path(nesterov), rtol=0, atol=1e-9)
    steep = path[:, 1]  # (steps + 1,): starts at +1, the minimum is at 0
    # overshoot: how far past the minimum the steep coordinate swings (largest excursion below 0)
    overshoot = (-steep).clamp(min=0).max().item()
    # settling: the first step after which |x_1| stays within 1% of its start
    outside = (steep.abs() > 0.01).nonzero()
    settled = int(outside.max()) + 1 if len(outside) else 0
    results[name] = (overshoot, settled)
    print(f"{name:>8}: overshoot past the minimum {overshoot:.3f}, |x_1| < 0.01 from step {settled}")

assert results["NAG"][0] < 0.5 * results["momentum"][0], "NAG swings past the minimum less far"
assert results["NAG"][1] < results["momentum"][1], "and settles on the steep axis sooner"
# --8<-- [end:overshoot]

# --8<-- [start:stability]
import math

import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"


def step(x, a, grad_f, alpha, beta, nesterov):
    """One step of the meeting's update (the function of the first section)."""
    look = x - alpha * beta * a if nesterov else x  # NAG: the look-ahead point; momentum: where it stands
    # a_{n+1} = beta * a_n + grad f(look)
    a = beta * a + grad_f(look)
    # x_{n+1} = x_n - alpha * a_{n+1}
    return x - alpha * a, a


# On f(x) = lam x^2 / 2 (grad = lam x) one step maps (x_n, u_n = alpha a_n) linearly to (x_{n+1}, u_{n+1}).
# With h = alpha * lam:
#   momentum: u' = beta u + h x,                x' = x - u'
#   NAG:      u' = beta u + h (x - beta u),     x' = x - u'      (gradient at the look-ahead x - beta u)
def step_matrix(h, beta, nesterov):
    look = 1 - h if nesterov else 1.0  # NAG's gradient also sees the coasting term -beta u
    return torch.tensor([[1 - h, -beta * look], [h, beta * look]], dtype=torch.float64)  # (x, u) -> (x', u')


beta = 0.9
# The matrix is the update: M (x, alpha a) = (x', alpha a') for any state and step size
state = torch.tensor([0.7, -0.3], dtype=torch.float64)  # (x_n, alpha a_n)
for alpha, lam in [(0.5, 1.3), (0.1, 14.0), (2.0, 0.9)]:
    for nesterov in (False, True):
        x1, a1 = step(state[0], state[1] / alpha, lambda x: lam * x, alpha, beta, nesterov)
        torch.testing.assert_close(step_matrix(alpha * lam, beta, nesterov) @ state, torch.stack([x1, alpha * a1]))


def spectral_radius(h, beta, nesterov):
    return torch.linalg.eigvals(step_matrix(h, beta, nesterov)).abs().max().item()


# Its characteristic polynomial z^2 - T z + D has both roots inside the unit circle iff |D| < 1 and |T| < 1 + D.
#   momentum: T = 1 + beta - h,            D = beta            -> 0 < h < 2 (1 + beta)
#   NAG:      T = (1 + beta)(1 - h),       D = beta (1 - h)    -> 0 < h < 2 (1 + beta) / (1 + 2 beta)
for h in (0.3, 1.5, 3.0):
    M_cm, M_nag = step_matrix(h, beta, False), step_matrix(h, beta, True)
    assert abs(M_cm.trace() - (1 + beta - h)) < 1e-12 and abs(M_cm.det() - beta) < 1e-12
    assert abs(M_nag.trace() - (1 + beta) * (1 - h)) < 1e-12 and abs(M_nag.det() - beta * (1 - h)) < 1e-12

# the largest stable alpha * lam, found on a grid of step 1e-3 ...
grid = torch.arange(1, 5001, dtype=torch.float64) * 1e-3  # (5000,): h = 0.001 ... 5
found = {}
for name, nesterov in [("momentum", False), ("NAG", True)]:
    stable = [h for h in grid.tolist() if spectral_radius(h, beta, nesterov) < 1]
    found[name] = max(stable)
# ... against the closed forms
bound = {"momentum": 2 * (1 + beta), "NAG": 2 * (1 + beta) / (1 + 2 * beta)}
for name in bound:
    print(f"{name:>8}: stable for alpha*lam < {bound[name]:.4f} (closed form), grid edge {found[name]:.3f}")
    assert abs(found[name] - bound[name]) <= 1e-3, (name, found[name], bound[name])

# Where NAG stops being the faster one: for (1 - sqrt beta)^2 < h < (1 + sqrt beta)^2 momentum's eigenvalues
# are complex with |z| = sqrt(D) = sqrt(beta). For h > 1 NAG's are real, and the larger |z| reaches sqrt(beta) at
#   h* = 1 + beta / (beta + sqrt(beta) (1 + beta))        (set |z| = sqrt(beta) in z^2 - T z + D = 0 and solve for h)
h_star = 1 + beta / (beta + math.sqrt(beta) * (1 + beta))
lo, hi = 1.0, bound["NAG"]  # bisection on the eigenvalues: NAG's radius minus momentum's changes sign once
for _ in range(60):
    mid = (lo + hi) / 2
    lo, hi = (mid, hi) if spectral_radius(mid, beta, True) < spectral_radius(mid, beta, False) else (lo, mid)
print(f"NAG's spectral radius passes momentum's (sqrt(beta) = {math.sqrt(beta):.4f}) at alpha*lam = {lo:.6f}; "
      f"closed form {h_star:.6f}")
assert abs(lo - h_star) < 1e-9, (lo, h_star)


def settle(h, nesterov, steps=400):
    """Steps until |x| stays below 0.01, from x = 1 on f(x) = lam x^2 / 2 with alpha = 1, lam = h."""
    x, a = torch.tensor(1.0, dtype=torch.float64, device=device), torch.tensor(0.0, dtype=torch.float64, device=device)
    xs = [x]
    for n in range(steps):
        x, a = step(x, a, lambda x: h * x, 1.0, beta, nesterov)
        xs.append(x)
    outside = (torch.stack(xs).abs() > 0.01).nonzero()
    return int(outside.max()) + 1 if len(outside) else 0


# Either side of h*: NAG settles sooner below it, later above it; above the NAG bound it diverges
for h in (1.32, 1.34, 1.5):
    cm, nag = settle(h, False), settle(h, True)
    print(f"alpha*lam = {h}: |x| < 0.01 from step {cm} (momentum), {nag} (NAG){' = never' if nag > 400 else ''}")
    if h < h_star:
        assert nag < cm, (h, nag, cm)
    elif h < bound["NAG"]:
        assert cm < nag <= 400, (h, nag, cm)
    else:
        assert cm < 400 < nag, (h, nag, cm)
# --8<-- [end:stability]

# --8<-- [start:plot]
import os
import tempfile

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt
import koreanize_matplotlib  # noqa: F401  Korean labels: bundles NanumGothic
import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
scales = torch.tensor([1.0, 50.0], dtype=torch.float64, device=device)  # f(x) = (x_0^2 + 50 x_1^2) / 2


def run(nesterov, alpha=0.018, beta=0.9, steps=60):
    """torch.optim.SGD's iterates, as x_n of the meeting's notation (NAG: x_n = p + alpha * beta * buf)."""
    p = torch.tensor([-10.0, 1.0], dtype=torch.float64, device=device, requires_grad=True)  # (2,)
    opt = torch.optim.SGD([p], lr=alpha, momentum=beta, nesterov=nesterov)
    path = [p.detach().clone()]
    for n in range(steps):
        p.grad = scales * p.detach()  # grad f(p)
        opt.step()
        buf = opt.state[p]["momentum_buffer"]
        path.append(p.detach() + alpha * beta * buf if nesterov else p.detach().clone())
    return torch.stack(path).cpu()  # (steps + 1, 2)


u, v = torch.meshgrid(torch.linspace(-11, 4, 200), torch.linspace(-1.6, 1.6, 200), indexing="xy")
fig, ax = plt.subplots(figsize=(6.4, 3.2))
ax.contour(u, v, (u**2 + 50 * v**2) / 2, levels=20, cmap="Greys", linewidths=0.6)
paths = {}
for nesterov, label, shown, color in [(False, "momentum", "모멘텀", "tab:red"), (True, "NAG", "NAG", "tab:blue")]:
    paths[label] = run(nesterov)
    ax.plot(paths[label][:, 0], paths[label][:, 1], "o-", ms=2.5, lw=1, color=color, label=shown)
# what the picture shows: after the first steps NAG's swing across the steep axis stays far smaller
swing = {label: path[5:, 1].abs().max().item() for label, path in paths.items()}
print(f"largest |x_1| after step 5: momentum {swing['momentum']:.3f}, NAG {swing['NAG']:.3f}")
assert swing["NAG"] < 0.5 * swing["momentum"], swing
ax.plot(0, 0, "k*", ms=10)
ax.set(xlabel="$x_0$", ylabel="$x_1$ (가파른 축)", title=r"모멘텀과 NAG, $\alpha$ = 0.018, $\beta$ = 0.9")
ax.legend()

alt = ("좁은 이차 함수 골짜기의 등고선 그림에 (-10, 1)에서 출발한 모멘텀과 NAG의 경로를 그렸습니다: "
       "모멘텀은 가파른 축을 가로질러 크게 흔들리고, NAG의 경로는 골짜기 바닥 가까이에 머뭅니다.")
# Saved where SNIPPET_OUTPUT_DIR points (the site build collects that folder), else in a temporary folder
out_dir = os.environ.get("SNIPPET_OUTPUT_DIR") or tempfile.mkdtemp()
# Lay the text out, then record the smallest font size used (the site checks it is readable at page width)
fig.canvas.draw()
min_pt = min(t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip())
fig.savefig(os.path.join(out_dir, "momentum_nag.png"), dpi=200, bbox_inches="tight",
            metadata={"Description": alt, "KB-Min-Font-Pt": str(min_pt)})
plt.close(fig)
print("figure: momentum_nag.png")
# --8<-- [end:plot]
