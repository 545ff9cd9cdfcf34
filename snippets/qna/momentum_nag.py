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


alpha, beta, steps = 1e-4, 0.9, 300
x0 = torch.tensor([-1.5, 2.0], dtype=torch.float64, device=device)  # (2,)

# By hand, the meeting's notation
x_cm, a_cm = x0.clone(), torch.zeros_like(x0)  # classical momentum
x_nag, a_nag = x0.clone(), torch.zeros_like(x0)  # NAG
cm_path, nag_path = [], []
for n in range(steps):
    # a_{n+1} = beta * a_n + grad f(x_n)
    a_cm = beta * a_cm + grad_rosenbrock(x_cm)
    # x_{n+1} = x_n - alpha * a_{n+1}
    x_cm = x_cm - alpha * a_cm
    cm_path.append(x_cm)

    # a_{n+1} = beta * a_n + grad f(x_n - alpha * beta * a_n)
    a_nag_next = beta * a_nag + grad_rosenbrock(x_nag - alpha * beta * a_nag)
    # x_{n+1} = x_n - alpha * a_{n+1}
    x_nag = x_nag - alpha * a_nag_next
    a_nag = a_nag_next
    nag_path.append((x_nag, a_nag))


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
for x_hand, (p, buf) in zip(cm_path, torch_sgd(nesterov=False)):
    torch.testing.assert_close(p, x_hand, rtol=0, atol=1e-6)

# NAG: PyTorch does not store x_n. It stores the look-ahead point y_n = x_n - alpha * beta * a_n,
# where the gradient is taken. Substituting into the meeting's two lines (g_n = grad f(y_n)):
#   a_{n+1} = beta * a_n + g_n
#   y_{n+1} = x_{n+1} - alpha * beta * a_{n+1} = y_n - alpha * (g_n + beta * a_{n+1})
# which is exactly SGD(nesterov=True): buf = beta * buf + g; p -= lr * (g + beta * buf), with
# p = y_n, buf = a_n and y_0 = x_0 (a_0 = 0). So x_n = p + alpha * beta * buf.
for (x_hand, a_hand), (p, buf) in zip(nag_path, torch_sgd(nesterov=True)):
    torch.testing.assert_close(buf, a_hand, rtol=0, atol=1e-6)
    # x_n = y_n + alpha * beta * a_n
    torch.testing.assert_close(p + alpha * beta * buf, x_hand, rtol=0, atol=1e-6)

print(f"{steps} steps on Rosenbrock from {x0.tolist()}: the meeting's formulas == torch.optim.SGD")
print(f"  momentum:       x_{steps} = {[round(v, 6) for v in cm_path[-1].tolist()]}")
print(f"  NAG (nesterov): x_{steps} = {[round(v, 6) for v in nag_path[-1][0].tolist()]}")
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


def run(nesterov, alpha=0.018, beta=0.9, steps=100):
    x = torch.tensor([-10.0, 1.0], dtype=torch.float64, device=device)  # (2,)
    a = torch.zeros_like(x)
    path = [x]
    for n in range(steps):
        look = x - alpha * beta * a if nesterov else x  # where the gradient is taken
        # a_{n+1} = beta * a_n + grad f(look)
        a = beta * a + grad_f(look)
        # x_{n+1} = x_n - alpha * a_{n+1}
        x = x - alpha * a
        path.append(x)
    return torch.stack(path)  # (steps + 1, 2)


results = {}
for name, path in [("momentum", run(False)), ("NAG", run(True))]:
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
import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"

# On f(x) = lam x^2 / 2 (grad = lam x) one step maps (x_n, u_n = alpha a_n) linearly to (x_{n+1}, u_{n+1}).
# With h = alpha * lam:
#   momentum: u' = beta u + h x,                x' = x - u'
#   NAG:      u' = beta u + h (x - beta u),     x' = x - u'      (gradient at the look-ahead x - beta u)
# The iteration converges iff both eigenvalues of its 2 x 2 matrix lie inside the unit circle.


def step_matrix(h, beta, nesterov):
    look = 1 - h if nesterov else 1.0  # NAG's gradient also sees the coasting term -beta u
    return torch.tensor([[1 - h, -beta * look], [h, beta * look]], dtype=torch.float64)  # (x, u) -> (x', u')


def spectral_radius(h, beta, nesterov):
    return torch.linalg.eigvals(step_matrix(h, beta, nesterov)).abs().max().item()


beta = 0.9
# the largest stable alpha * lam, found on a grid of step 1e-3 ...
grid = torch.arange(1, 5001, dtype=torch.float64) * 1e-3  # (5000,): h = 0.001 ... 5
found = {}
for name, nesterov in [("momentum", False), ("NAG", True)]:
    stable = [h for h in grid.tolist() if spectral_radius(h, beta, nesterov) < 1]
    found[name] = max(stable)
# ... against the closed forms: momentum alpha * lam < 2 (1 + beta), NAG alpha * lam < 2 (1 + beta) / (1 + 2 beta)
bound = {"momentum": 2 * (1 + beta), "NAG": 2 * (1 + beta) / (1 + 2 * beta)}
for name in bound:
    print(f"{name:>8}: stable for alpha*lam < {bound[name]:.4f} (closed form), grid edge {found[name]:.3f}")
    assert abs(found[name] - bound[name]) <= 1e-3, (name, found[name], bound[name])


def run(h, beta, nesterov, steps=200):
    # the meeting's update on f(x) = lam x^2 / 2 with alpha = 1, lam = h, from x = 1
    lam, alpha = h, 1.0
    x = torch.tensor(1.0, dtype=torch.float64, device=device)
    a = torch.zeros_like(x)
    for n in range(steps):
        look = x - alpha * beta * a if nesterov else x  # where the gradient is taken
        # a_{n+1} = beta * a_n + grad f(look),  x_{n+1} = x_n - alpha * a_{n+1}
        a = beta * a + lam * look
        x = x - alpha * a
    return abs(x.item())


# alpha * lam = 1.5 lies between the two bounds: momentum converges, NAG diverges
x_cm, x_nag = run(1.5, beta, nesterov=False), run(1.5, beta, nesterov=True)
print(f"alpha*lam = 1.5, beta = {beta}, 200 steps from |x| = 1: momentum |x| = {x_cm:.2e}, NAG |x| = {x_nag:.2e}")
assert x_cm < 1e-3, "momentum converges at alpha*lam = 1.5"
assert x_nag > 1e3, "NAG diverges at alpha*lam = 1.5"
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
    x = torch.tensor([-10.0, 1.0], dtype=torch.float64, device=device)  # (2,)
    a = torch.zeros_like(x)
    path = [x]
    for n in range(steps):
        look = x - alpha * beta * a if nesterov else x
        # a_{n+1} = beta * a_n + grad f(look),  x_{n+1} = x_n - alpha * a_{n+1}
        a = beta * a + scales * look
        x = x - alpha * a
        path.append(x)
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
