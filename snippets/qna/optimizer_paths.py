"""Q3 and Q4 in one picture: SGD, momentum, NAG and Adagrad on the same contour plots.

Two test functions: an ill-conditioned quadratic f(x) = (x_0^2 + 50 x_1^2) / 2 (a narrow valley:
the curvature along x_1 is 50 times that along x_0) and the Rosenbrock function
f(x) = (1 - x_0)^2 + 100 (x_1 - x_0^2)^2 (a curved valley, minimum at (1, 1)).
Each optimizer is PyTorch's own (torch.optim), started from the same point.

Sources:
- PyTorch docs, torch.optim.SGD and torch.optim.Adagrad (https://pytorch.org/docs/stable/optim.html)
- Rosenbrock, "An Automatic Method for Finding the Greatest or Least Value of a Function",
  The Computer Journal 3(3) (1960)
- Sutskever et al., "On the importance of initialization and momentum in deep learning", ICML 2013
"""

# --8<-- [start:paths]
import os
import tempfile

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt
import koreanize_matplotlib  # noqa: F401  Korean labels: bundles NanumGothic
import torch

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"


def quadratic(x):
    # f(x) = (x_0^2 + 50 x_1^2) / 2
    return (x[0] ** 2 + 50 * x[1] ** 2) / 2


def rosenbrock(x):
    # f(x) = (1 - x_0)^2 + 100 (x_1 - x_0^2)^2
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def path(f, start, make_opt, steps):
    x = torch.tensor(start, dtype=torch.float64, device=device, requires_grad=True)  # (2,)
    opt = make_opt([x])
    points = [x.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        f(x).backward()
        opt.step()
        points.append(x.detach().clone())
    return torch.stack(points).cpu()  # (steps + 1, 2)


problems = {
    # name: (f, start, steps, learning rate for SGD/momentum/NAG, for Adagrad, contour box, minimum)
    "quadratic": (quadratic, [-10.0, 1.0], 60, 0.018, 1.5, (-11, 3, -1.6, 1.6), (0.0, 0.0)),
    "Rosenbrock": (rosenbrock, [-1.2, 1.0], 500, 1e-3, 0.3, (-1.6, 1.6, -0.6, 1.8), (1.0, 1.0)),
}
titles = {"quadratic": "조건수가 큰 이차 함수", "Rosenbrock": "로젠브록 함수"}
shown = {"SGD": "SGD", "momentum": "모멘텀", "NAG": "NAG", "Adagrad": "Adagrad"}  # legend names
fig, axes = plt.subplots(2, 1, figsize=(6.4, 7.6), constrained_layout=True)  # one panel per row: readable at page width
for ax, (name, (f, start, steps, lr, lr_ada, box, minimum)) in zip(axes, problems.items()):
    optimizers = {
        "SGD": lambda p: torch.optim.SGD(p, lr=lr),
        "momentum": lambda p: torch.optim.SGD(p, lr=lr, momentum=0.9),
        "NAG": lambda p: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
        "Adagrad": lambda p: torch.optim.Adagrad(p, lr=lr_ada),
    }
    u, v = torch.meshgrid(torch.linspace(box[0], box[1], 300), torch.linspace(box[2], box[3], 300), indexing="xy")
    levels = torch.logspace(-1, 3.5, 18) if name == "Rosenbrock" else 20
    ax.contour(u, v, f(torch.stack([u, v])), levels=levels, cmap="Greys", linewidths=0.6)
    start_value = f(torch.tensor(start, dtype=torch.float64)).item()
    finals, paths = {}, {}
    for label, make_opt in optimizers.items():
        p = paths[label] = path(f, start, make_opt, steps)
        final = f(p[-1]).item()
        print(f"{name:>10} {label:>8}: f = {start_value:8.3f} -> {final:.3e} after {steps} steps")
        assert final < start_value, f"{label} made {name} worse"
        finals[label] = final
        ax.plot(p[:, 0], p[:, 1], ".-", ms=2, lw=1, label=f"{shown[label]} ({final:.1e})")
    # with the same learning rate, momentum and NAG get far closer to the minimum than plain SGD
    assert max(finals["momentum"], finals["NAG"]) < 0.1 * finals["SGD"], finals
    # Adagrad's first step is lr along every axis: G_1 = g_1^2, so lr * g / sqrt(g^2) = lr * sign(g) (Q3)
    first = (paths["Adagrad"][1] - paths["Adagrad"][0]).abs()  # (2,)
    torch.testing.assert_close(first, torch.full_like(first, lr_ada), rtol=0, atol=1e-8)
    if name == "quadratic":  # NAG damps the zigzag across the steep axis x_1 (Q4)
        swing = {label: paths[label][5:, 1].abs().max().item() for label in ("momentum", "NAG")}
        assert swing["NAG"] < 0.5 * swing["momentum"], swing
        # An independent check of the three whole paths: on this f each axis i is linear, g = lam_i x,
        # with lam = (1, 50). torch's buffer b_t = mu b_{t-1} + g_t (b_0 = 0) and the step
        # x_t = x_{t-1} - lr b_t (momentum) or x_{t-1} - lr (g_t + mu b_t) (Nesterov) then make
        # [x, b] a linear recurrence [x, b]_t = M^t [x_0, 0], with h = lr lam:
        #   momentum: M = [[1 - h, -lr mu], [lam, mu]];  NAG: M = [[1 - h (1 + mu), -lr mu^2], [lam, mu]]
        for label, mu, nesterov in (("SGD", 0.0, False), ("momentum", 0.9, False), ("NAG", 0.9, True)):
            for axis, lam in enumerate((1.0, 50.0)):
                h = lr * lam
                M = torch.tensor([[1 - h * (1 + mu) if nesterov else 1 - h, -lr * mu * (mu if nesterov else 1)],
                                  [lam, mu]], dtype=torch.float64)  # (2, 2)
                closed = torch.stack([torch.linalg.matrix_power(M, t) @ torch.tensor([start[axis], 0.0],
                                      dtype=torch.float64) for t in range(steps + 1)])  # (steps + 1, 2)
                torch.testing.assert_close(paths[label][:, axis], closed[:, 0], rtol=1e-9, atol=1e-12)
    ax.plot(*minimum, "k*", ms=12)
    ax.set(title=f"{titles[name]}, {steps}스텝 (범례: 마지막 f 값)", xlabel="$x_0$", ylabel="$x_1$",
           xlim=box[:2], ylim=box[2:])
    ax.legend(fontsize=10, loc="lower right" if name == "Rosenbrock" else "upper right")

# Saved where SNIPPET_OUTPUT_DIR points (the site build collects that folder), else in a temporary folder
out_dir = os.environ.get("SNIPPET_OUTPUT_DIR") or tempfile.mkdtemp()
alt = ("조건수가 큰 이차 함수(위)와 로젠브록 함수(아래)의 등고선 그림에 같은 출발점에서 시작한 SGD, 모멘텀, NAG, "
       "Adagrad의 경로를 그렸습니다: 모멘텀은 좁은 골짜기를 가로질러 지그재그로 움직이고, NAG는 그 지그재그를 줄이며, "
       "Adagrad는 첫 스텝에서 두 축 방향으로 같은 크기만큼 움직입니다.")
# Lay the text out, then record the smallest font size used (the site checks it is readable at page width)
fig.canvas.draw()
min_pt = min(t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip())
fig.savefig(os.path.join(out_dir, "optimizer_paths.png"), dpi=200, bbox_inches="tight",
            metadata={"Description": alt, "KB-Min-Font-Pt": str(min_pt)})
plt.close(fig)
print("figure: optimizer_paths.png")
# --8<-- [end:paths]
