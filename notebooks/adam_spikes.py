# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Adaptive preconditioners trigger loss spikes in Adam
#
# Train a small network with Adam and the loss falls smoothly for hundreds of steps, then jumps
# up by a factor of 3 to 200 and falls back. Bai, Zhou, Zhao, Li, Li, Xiong, Yang, Zhang and Xu
# trace these spikes to Adam's *preconditioner*, not to the loss landscape [Bai et al.,
# *Adaptive Preconditioners Trigger Loss Spikes in Adam*, arXiv 2506.04805, ICML 2026]. While
# the gradient is small, the second-moment estimate $\hat v$ forgets it at the rate $\beta_2$,
# so the step size $\eta/\sqrt{\hat v}$ grows. Once the preconditioned curvature *along the
# gradient* passes $2/\eta$, the iterate becomes unstable along the top mode, the loss rises,
# the gradient refills $\hat v$, and the loss recovers. The raw Hessian stays far below the
# threshold throughout.
#
# This chapter reproduces the mechanism on a 1-D quadratic (Part A) and on the paper's
# two-layer tanh network (Part B), tests the mitigations (Part C), and then connects it to the
# companion paper on degenerate minima [Bai, Zhao, Zhou, Xu, Zhang, arXiv 2603.09581, ICML
# 2026] (Part D): the same decay of $\hat v$ gives Adam a *linear* rate on $x^4$, where GD is
# sublinear. A last experiment, derived for this chapter, removes the decay (AMSGrad) and
# watches both effects vanish.
#
# **About the configuration.** The paper's exact hyperparameters (widths, learning rates, step
# counts) are not reproduced here. The network, data, learning rates and step counts below are
# a *reconstruction* of its first experiment, validated on a CPU; no official code is known.
# The definitions of $\hat H$ and $\lambda_{\rm grad}$ follow published summaries of the paper
# and Lemma 1 of Tang, Chen and Liu (arXiv 2609.18314). Two pieces are *derived for this
# chapter*, not quoted from the paper: the equivalence of the threshold $2/\eta$ on $\hat H$
# with Cohen et al.'s adaptive edge of stability, and the $2\times2$ frozen-preconditioner check
# below. The claims test the mechanism and its relative timing, never absolute step numbers:
# after the first spikes Adam's trajectory is chaotic. Rounding-level changes (the gradient by
# autograd instead of by hand) leave the first two spikes in place and move every later one.

# %% tags=["parameters", "remove-cell"]
mode = "quick"
overrides = {}

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from companion import plotting
from companion.spectra import dense_hessian
from companion.adam_spikes import adam, spikes
from companion.adam_spikes import power_loss as polynomial
from companion.pipeline.record import start

run = start("adam_spikes", mode, overrides)
cfg = run.config

# %% [markdown]
# ## Adam, its preconditioner, and the threshold
#
# Adam as `torch.optim.Adam`: $m_t=\beta_1m_{t-1}+(1-\beta_1)g_t$,
# $v_t=\beta_2v_{t-1}+(1-\beta_2)g_t^2$, $\hat m_t=m_t/(1-\beta_1^t)$,
# $\hat v_t=v_t/(1-\beta_2^t)$ and
# $$\theta_{t+1}=\theta_t-\eta\,P_t\,\hat m_t,\qquad
#   P_t=\mathrm{diag}\big(1/(\sqrt{\hat v_t}+\epsilon)\big).$$
# $P_t$ is the preconditioner *applied* at step $t$, so $\hat v_t$ already contains $g_t$. The
# library's `InstrumentedAdam` does torch's arithmetic operation for operation (its parameters
# agree with `torch.optim.Adam` bit for bit in the unit tests) and keeps $m$, $\hat v$, $P_t$.
#
# **Preconditioned Hessian.** $\hat H_t=c_tP_tH_t$ with
# $c_t=\frac{1}{1-\beta_1^t}\cdot\frac{1-\beta_1}{1+\beta_1}$, compared with $2/\eta$; we compute
# $\lambda_{\max}(\hat H_t)=c_t\lambda_{\max}(P_t^{1/2}H_tP_t^{1/2})$ with a symmetric
# eigensolver. *Derived here:* freeze $P$ on $L=\frac12a\theta^2$, write
# $\alpha=\eta/(\sqrt{\hat v}+\epsilon)$ and drop the bias corrections. Adam on $(\theta,m)$ is the
# linear map
# $$\begin{pmatrix}1-\alpha(1-\beta_1)a & -\alpha\beta_1\\(1-\beta_1)a & \beta_1\end{pmatrix},$$
# with determinant $\beta_1$ and trace $1+\beta_1-\alpha(1-\beta_1)a$. An eigenvalue equals $-1$
# exactly when $\alpha(1-\beta_1)a=2(1+\beta_1)$, i.e. when $\hat H\eta/2=1$. The threshold on
# $\hat H$ is therefore Cohen et al.'s adaptive edge of stability
# $\lambda_{\max}(PH)<(2+2\beta_1)/((1-\beta_1)\eta)$ ($=38/\eta$ at $\beta_1=0.9$), up to the
# factor $1-\beta_1^t$. All curvatures below are scaled by $\eta/2$, so the threshold is 1.
#
# **Curvature along the gradient.** $\lambda_{\rm grad}(H)=g^\top Hg/\|g\|^2$, applied to
# $\hat H$ in two readings: (A) literally, $c_t\,g^\top PHg/\|g\|^2$; (B) as the sign of the
# loss change for a step along $-Pg$, $c_t\,(Pg)^\top H(Pg)/(g^\top Pg)$, the Rayleigh quotient
# of $P^{1/2}HP^{1/2}$ at $P^{1/2}g$. Reading B never exceeds $\lambda_{\max}(\hat H)$; the claims
# use it. The alignment is $\cos_t=|\langle P^{1/2}g,u_1\rangle|/\|P^{1/2}g\|$, with $u_1$ the
# top eigenvector of $P^{1/2}HP^{1/2}$.
#
# **Pure decay.** While $g_t^2\ll v_t$,
# $\hat v_t/\hat v_{t-1}=\beta_2(1-\beta_2^{t-1})/(1-\beta_2^t)$.

# %%
beta1 = cfg.beta1
alpha_star = adam.frozen_map_threshold(cfg.curvature, beta1)
eigenvalues = np.linalg.eigvals(adam.frozen_adam_map(alpha_star, cfg.curvature, beta1))
print(f"frozen map at alpha = 2(1+b1)/((1-b1)a) = {alpha_star:g}: eigenvalues "
      f"{np.sort(eigenvalues.real)} (det = b1 = {np.prod(eigenvalues).real:.6f})")

# %% [markdown]
# ## Part A: a 1-D quadratic
#
# $L=\frac12a\theta^2$ with $a=1$, $\theta_0=1$, $\eta=0.01$ (the quick-mode values): $a\eta=0.01$
# is two hundred times below GD's threshold 2, and GD with the same $\eta$ converges monotonically.
# Adam ($\beta_2=0.99$) does too, at first. Once $g^2\ll\hat v$, $\hat v$ decays like
# $\beta_2^t$, $\hat H_t=c_taP_t$ grows like $\beta_2^{-t/2}$, and it reaches $2/\eta$ at
# $$t^*=t_0+\frac{\ln(v^*/\hat v_{t_0})}{\ln\beta_2},\qquad v^*=(c\,a\,\eta/2)^2 .$$
# We predict $t^*$ from the state 300 steps before the crossing.

# %%
lr_1d, beta2_1d = cfg.quadratic_learning_rate, cfg.quadratic_beta2
quad = polynomial.adam(2, cfg.theta0, cfg.quadratic_steps, lr_1d, beta1, beta2_1d, cfg.eps,
                       curvature=cfg.curvature)
quad_gd = polynomial.gradient_descent(2, cfg.theta0, cfg.quadratic_steps, lr_1d,
                                      curvature=cfg.curvature)
a_spike = polynomial.quadratic_spike(quad, lr_1d, beta1, cfg.curvature)
t_c = a_spike.t_cross
decay_window = slice(t_c - 300, t_c)  # rows t_c-300 .. t_c-1: the 300 steps before t_c
ratio_error = np.abs(quad.v_hat[1:] / quad.v_hat[:-1]
                     - adam.pure_decay_ratio(quad.steps[1:], beta2_1d))
t0 = t_c - 300
t_star = adam.crossing_time_1d(t0 + 1, quad.v_hat[t0], cfg.curvature, lr_1d, beta1, beta2_1d)
print(f"first crossing at step {t_c + 1}, predicted t* = {t_star:.2f}; loss envelope minimum at "
      f"step {a_spike.t_env_min + 1}; peak at {a_spike.t_pk + 1}, downward crossing at "
      f"{a_spike.t_down + 1}; amplitude 10^{a_spike.log10_amplitude:.1f}")

# %% [markdown]
# The loss of Adam oscillates in sign with the momentum, so we follow its 10-step running
# maximum (the *envelope*). The five stages of the paper appear in order (their exact
# boundaries are our reading; in 1-D $\lambda_{\rm grad}=\lambda_{\max}$, so the paper's stages 2
# and 3 start together): (1) descent, until $g^2/\hat v<10^{-3}$; (2) $\hat v$ decays like
# $\beta_2^t$; (3–4) past the threshold the envelope turns up within a step and the loss grows
# geometrically until $g^2>\hat v$; (5) $\hat v$ jumps, $\hat H$ falls below the threshold and
# the loss peaks and recovers. Then $\hat v$ decays again, and the cycle repeats.

# %%
steps_1d = quad.steps
stage_edges = [a_spike.t_decay, t_c, a_spike.t_down]  # stages 1 | 2 | 3-4 | 5
fig, axes = plt.subplots(3, 1, figsize=(8, 7.5), sharex=True)
ax = axes[0]
ax.semilogy(steps_1d, quad.loss, c="C0", lw=0.6, alpha=0.5, label="Adam")
ax.semilogy(steps_1d, a_spike.envelope, c="C0", label="Adam, 10-step envelope")
ax.semilogy(quad_gd.steps, quad_gd.loss, c="k", label=rf"GD, same $\eta$")
ax.set(ylabel="loss", ylim=(1e-80, 10), title="(a) loss")
ax.legend(loc="lower left")
ax = axes[1]
ax.semilogy(steps_1d, a_spike.h_hat, c="C3")
ax.axhline(1, c="k", lw=0.8)
ax.fill_between(steps_1d, 1, a_spike.h_hat, where=a_spike.h_hat > 1, color="C3", alpha=0.3)
ax.set(ylabel=r"$\hat H_t\,\eta/2$", title=r"(b) preconditioned curvature; threshold 1")
ax = axes[2]
ax.semilogy(steps_1d, quad.v_hat, c="C2", label=r"$\hat v_t$")
ax.semilogy(steps_1d, quad.grad ** 2, c="C1", lw=0.6, label=r"$g_t^2$")
reference = quad.v_hat[a_spike.t_decay] * beta2_1d ** (steps_1d - steps_1d[a_spike.t_decay])
ax.semilogy(steps_1d, reference, c="k", ls="--", lw=0.8, label=r"$\propto\beta_2^t$")
ax.axvline(a_spike.t_jump + 1, c="C1", ls="--", lw=0.8)  # g^2 overtakes v_hat: end of stage 4
ax.set(ylabel="second moment", xlabel="step t", ylim=(1e-80, 10),
       title=r"(c) $\hat v_t$ decays like $\beta_2^t$ until the gradient refills it")
ax.legend(loc="lower left")
for ax in axes:
    for edge in stage_edges:
        ax.axvline(edge + 1, c="0.5", ls=":", lw=0.8)
for label, (lo, hi) in zip(["1", "2", "3–4", "5"],
                           zip([0, *stage_edges], [*stage_edges, stage_edges[-1] + 150])):
    axes[1].text((lo + hi) / 2 + 1, 0.03, label, ha="center", va="bottom",
                 transform=axes[1].get_xaxis_transform(), fontsize=10, fontweight="bold")
axes[0].set_xlim(0, min(cfg.quadratic_steps, a_spike.t_down + 1200))
run.figure("fig1_quadratic", fig,
           data={"loss_adam": quad.loss, "loss_gd": quad_gd.loss, "envelope": a_spike.envelope,
                 "h_hat": a_spike.h_hat, "v_hat": quad.v_hat, "grad_sq": quad.grad ** 2,
                 "stage_edges": np.array(stage_edges) + 1, "t_jump": a_spike.t_jump + 1},
           caption=f"Adam and GD on $L=\\frac12a\\theta^2$, $a={cfg.curvature:g}$, "
                   f"$\\eta={lr_1d:g}$, $\\beta_2={beta2_1d:g}$. Dotted lines: stage boundaries "
                   "(stages 1, 2, 3–4, 5 as labelled).")

# %% [markdown]
# **1 (`vhat_pure_decay_1d`).** Over the 300 steps before the first crossing $t_c$, the ratio
# $\hat v_t/\hat v_{t-1}$ matches the pure-decay formula to $10^{-9}$, the gradient is
# negligible ($g^2/\hat v<10^{-6}$), and $|t_c-t^*|\le2$.
#
# **2 (`spike_at_crossing_1d`).** The envelope's minimum lies within 10 steps of $t_c$, the
# peak within 2 steps of the downward crossing $t_{\rm down}$ (the spike ends when $\hat v$ has
# caught up), the spike spans more than ten decades, and GD with the same $\eta$ is monotone.

# %%
run.claim("1", "vhat_pure_decay_1d",
          "max over [t_c-300, t_c) of |v^_t/v^_{t-1} - b2(1-b2^(t-1))/(1-b2^t)|",
          ratio_error[t_c - 301:t_c - 1].max(), "<", 1e-9)
run.claim("1", "vhat_pure_decay_1d", "max over [t_c-300, t_c) of g^2 / v^",
          (quad.grad ** 2 / quad.v_hat)[decay_window].max(), "<", 1e-6)
run.claim("1", "vhat_pure_decay_1d", "|t_c - t*|, t* predicted from t_c - 300",
          abs(t_c + 1 - t_star), "<=", 2)
run.claim("2", "spike_at_crossing_1d", "|argmin(10-step envelope) - t_c|",
          abs(a_spike.t_env_min - t_c), "<=", 10)
run.claim("2", "spike_at_crossing_1d", "|t_pk - t_down|", abs(a_spike.t_pk - a_spike.t_down),
          "<=", 2)
run.claim("2", "spike_at_crossing_1d", "log10(L(t_pk) / min envelope)", a_spike.log10_amplitude,
          ">", 10)
run.claim("2", "spike_at_crossing_1d", "max_t (L_GD(t+1) - L_GD(t))",
          np.diff(quad_gd.loss).max(), "<=", 0)

# %% [markdown]
# ## Part B: the two-layer tanh network
#
# $f(x)=\sum_{k\le m}a_k\tanh(w_kx+b_k)+c$ with $m=50$ ($3m+1=151$ parameters), fitted to
# $\sin x+\sin4x$ on 40 points of $[-\pi,\pi]$ with the loss $\frac12\,\mathrm{mean}(f-y)^2$, full
# batch, float64. Initialisation: $w,b\sim N(0,1)$, $a\sim N(0,1/m)$, $c=0$. Adam with
# $\eta=0.02$, $\beta=(0.9,0.999)$, $\epsilon=10^{-8}$. We keep $(\theta_t,g_t,\hat v_t,P_t)$ at
# every step, detect the spikes, and compute the exact Hessian (`torch.func.hessian`) at every
# step from $t_{\rm on}-80$ to $t_{\rm pk}+8$ around the first spikes, and every 20 steps over
# the whole run (every step in paper mode). All values are those of quick mode; paper mode
# trains 20,000 steps.
#
# **Spike detector.** A spike starts when $L$ exceeds 3× its running minimum (looked for from
# step 100) and ends when $L$ is back below 1.5× the running minimum; episodes restarting within
# 20 steps are merged. $t_{\min}$ is the loss minimum between the previous spike's end and the
# peak $t_{\rm pk}$; the onset $t_{\rm on}$ is the first step with $L>1.5\,L(t_{\min})$.

# %%
lr, beta2 = cfg.learning_rate, cfg.beta2
net = spikes.TanhNet.sine_task(cfg.n_points, cfg.width)
theta0 = net.init(cfg.seed)
train = adam.run_adam(net.grad_and_loss, theta0, cfg.steps, lr, (beta1, beta2), cfg.eps)
found = spikes.detect_spikes(train.loss)
stories, previous_end = [], 0
for spike in found[:cfg.spikes_examined]:
    stories.append(spikes.spike_story(net, train, spike, previous_end, lr, beta1, beta2,
                                      cfg.window_before, cfg.window_after))
    previous_end = spike.end
overview = spikes.curvature_series(net, train, range(cfg.overview_every - 1, cfg.steps,
                                                     cfg.overview_every), beta1, beta2)
scale = lr / 2
print(f"{len(found)} spikes in {cfg.steps} steps; first peaks at steps "
      f"{[s.t_pk + 1 for s in found[:5]]}, amplitudes {[round(s.amplitude, 1) for s in found]}")
for story in stories:
    s = story.spike
    print(f"spike at step {s.t_pk + 1}: lambda_max(H^) crosses at {story.cross_max + 1}, "
          f"lambda_grad^B(H^) at {story.cross_grad + 1}, loss minimum {s.t_min + 1}, "
          f"onset {s.t_on + 1}")

# %% [markdown]
# Over the whole run (F2) the raw sharpness $\lambda_{\max}(H)\eta/2$ stays near 0.2, while the
# preconditioned $\lambda_{\max}(\hat H)\eta/2$ climbs to 1 and saw-tooths around it: every
# spike resets it below the threshold, and the quiet decay of $\hat v$ brings it back.

# %%
peaks = np.array([s.t_pk for s in found], dtype=int)
fig, axes = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
ax = axes[0]
ax.semilogy(train.steps, train.loss, c="C0")
ax.plot(peaks + 1, train.loss[peaks], "v", c="C3", ms=5, label=f"{len(found)} detected spikes")
ax.set(ylabel="loss", title="(a) training loss")
ax.legend()
ax = axes[1]
ax.plot(overview.index + 1, overview.lam_max_hat * scale, c="C3",
        label=r"$\lambda_{\max}(\hat H)\,\eta/2$")
ax.plot(overview.index + 1, overview.lam_max_raw * scale, c="k",
        label=r"$\lambda_{\max}(H)\,\eta/2$")
ax.axhline(1, c="k", lw=0.8, ls="--")
ax.set(xlabel="step t", ylabel=r"curvature $\times\,\eta/2$",
       title=f"(b) every {cfg.overview_every} steps; threshold 1")
ax.legend(loc="upper left")
run.figure("fig2_fcn_overview", fig,
           data={"loss": train.loss, "spike_peaks": peaks + 1, "overview_steps": overview.index + 1,
                 "lam_max_hat": overview.lam_max_hat * scale,
                 "lam_max_raw": overview.lam_max_raw * scale},
           caption=f"Adam on the tanh network, width {cfg.width}, seed {cfg.seed}: spikes come "
                   "with the preconditioned sharpness at 1; the raw sharpness is far below.")

# %% [markdown]
# Zooming in on the first spikes (F3) shows the order of events. $\lambda_{\max}(\hat H)$ passes
# the threshold first, tens of steps ahead: an early warning. The gradient then swings onto the
# top mode ($\cos_t\to1$), and $\lambda_{\rm grad}(\hat H)$ follows it over the threshold: the
# loss turns up within a couple of steps of that crossing. Throughout the calm phase
# $\hat v$ follows the pure decay along the top mode and $g^2/\hat v$ there is small; it reaches
# order one only at the peak, when $\hat v$ jumps and $\lambda_{\max}(\hat H)$ drops below 1.

# %%
zoomed = stories[:2]  # paper mode examines more spikes; the figure shows the first two
fig, axes = plt.subplots(4, max(len(zoomed), 1), figsize=(5 * max(len(zoomed), 1), 9),
                         sharex="col", squeeze=False)
zoom_data = {"spikes_detected": len(found)}  # never empty, even with no spike
for j, story in enumerate(zoomed):
    s, ser = story.spike, story.series
    x = ser.index + 1
    zoom = slice(x[0] - 1, x[-1])
    events = {"cross max": story.cross_max, "cross grad": story.cross_grad, "t_min": s.t_min,
              "t_pk": s.t_pk}
    ax = axes[0, j]
    ax.semilogy(train.steps[zoom], train.loss[zoom], c="C0")
    ax.set(title=f"spike {j + 1}: loss", ylabel="loss")
    ax = axes[1, j]
    ax.plot(x, ser.lam_max_hat * scale, c="C3", label=r"$\lambda_{\max}(\hat H)$")
    ax.plot(x, ser.lam_grad_a * scale, c="C1", ls="--", label=r"$\lambda^A_{\rm grad}(\hat H)$")
    ax.plot(x, ser.lam_grad_b * scale, c="C2", label=r"$\lambda^B_{\rm grad}(\hat H)$")
    ax.plot(x, ser.lam_max_raw * scale, c="k", label=r"$\lambda_{\max}(H)$")
    ax.axhline(1, c="k", lw=0.8, ls="--")
    ax.set(ylabel=r"$\times\,\eta/2$", ylim=(0, 1.6))
    ax = axes[2, j]
    ax.plot(x, ser.cos_top, c="C4")
    ax.set(ylabel=r"$\cos_t$", ylim=(0, 1.05))
    ax = axes[3, j]
    ax.semilogy(x, ser.g2_over_v, c="C0", label=r"$u_1^2$-weighted $g^2/\hat v$")
    ax.semilogy(x, np.abs(ser.v_ratio_residual), c="C5",
                label=r"$|\hat v$-ratio $-$ pure decay$|$")
    ax.set(xlabel="step t", ylabel="along $u_1$")
    for ax in axes[:, j]:
        for (name, t), c in zip(events.items(), ["C3", "C2", "0.4", "k"]):
            ax.axvline(t + 1, c=c, ls=":", lw=1)
    axes[0, j].text(0.01, 0.95, ", ".join(f"{k} {v + 1}" for k, v in events.items()),
                    transform=axes[0, j].transAxes, va="top", fontsize=7)
    zoom_data.update({f"spike{j}_steps": x, f"spike{j}_loss": train.loss[zoom],
                      f"spike{j}_lam_max_hat": ser.lam_max_hat * scale,
                      f"spike{j}_lam_grad_a": ser.lam_grad_a * scale,
                      f"spike{j}_lam_grad_b": ser.lam_grad_b * scale,
                      f"spike{j}_lam_max_raw": ser.lam_max_raw * scale,
                      f"spike{j}_cos": ser.cos_top, f"spike{j}_g2_over_v": ser.g2_over_v,
                      f"spike{j}_v_ratio_residual": ser.v_ratio_residual,
                      f"spike{j}_events": np.array(list(events.values())) + 1})
axes[1, 0].legend(loc="upper left", fontsize=7, ncol=2)
axes[3, 0].legend(loc="upper left", fontsize=7)
run.figure("fig3_spike_zoom", fig, data=zoom_data,
           caption="The first spikes, from $t_{\\rm on}-80$ to $t_{\\rm pk}+8$. Dotted: crossings "
                   "of $\\lambda_{\\max}(\\hat H)$ (red) and $\\lambda^B_{\\rm grad}(\\hat H)$ "
                   "(green), $t_{\\min}$ (grey), $t_{\\rm pk}$ (black).")

# %% [markdown]
# Each claim below is the worst case over the first two spikes (with fewer, over those found;
# with none the values are NaN and the claims fail). Paper mode examines more spikes; the same
# quantities over all of them are reported, not asserted.
#
# **3 (`grad_curvature_triggers`).** The loss minimum is within $[-3,4]$ steps of the
# crossing of $\lambda^B_{\rm grad}(\hat H)$ (its last upward crossing by $t_{\rm on}$);
# $\lambda_{\max}(\hat H)$ crossed at least 10 steps before the onset; and it crossed no later than
# $\lambda^B_{\rm grad}$ (guaranteed since $\lambda^B_{\rm grad}\le\lambda_{\max}(\hat H)$: a
# sanity check of the code).
#
# **4 (`alignment_and_recovery`).** $\max\cos_t$ over $[t_{\rm on}-5,t_{\rm on}]$ is at least
# 0.98, and $\lambda_{\max}(\hat H)\eta/2<1$ five steps after the peak.
#
# **5 (`preconditioner_not_hessian`).** The raw $\lambda_{\max}(H)\eta/2$ stays below 0.5 in every
# window. In the calm window $[\max(\text{prev end}+5,t_{\rm on}-60),\,t_{\rm on}-10]$, the
# median $|\hat v$-ratio $-$ pure decay$|$ along $u_1$ is below $10^{-3}$ and the median
# $u_1^2$-weighted $g^2/\hat v$ is below 0.15: the preconditioner grows by forgetting, not because
# the gradient changed.

# %%
claimed = stories[:2]


def per_spike(function, among=claimed):
    """``function(story)`` for each spike in ``among`` (empty array if there are none)."""
    return np.array([function(story) for story in among], dtype=float)


def worst_high(values):
    return float(np.max(values)) if len(values) else np.nan


def worst_low(values):
    return float(np.min(values)) if len(values) else np.nan


def crossed(story):
    return story.cross_grad >= 0 and story.cross_max >= 0


def max_cos_before_onset(story):
    index, t_on = story.series.index, story.spike.t_on
    return story.series.cos_top[(index >= t_on - 5) & (index <= t_on)].max()


# (id, name, statement, per-spike quantity, op, bound); "<" bounds read the largest value
spike_checks = [
    ("3", "grad_curvature_triggers", "t_min - t_cross(lambda^B_grad)",
     lambda st: st.spike.t_min - st.cross_grad if crossed(st) else np.nan, ">=", -3),
    ("3", "grad_curvature_triggers", "t_min - t_cross(lambda^B_grad)",
     lambda st: st.spike.t_min - st.cross_grad if crossed(st) else np.nan, "<=", 4),
    ("3", "grad_curvature_triggers", "t_on - t_cross(lambda_max(H^))",
     lambda st: st.spike.t_on - st.cross_max if crossed(st) else np.nan, ">=", 10),
    ("3", "grad_curvature_triggers", "t_cross(lambda^B_grad) - t_cross(lambda_max(H^))",
     lambda st: st.cross_grad - st.cross_max if crossed(st) else np.nan, ">=", 0),
    ("4", "alignment_and_recovery", "max cos over [t_on-5, t_on]", max_cos_before_onset,
     ">=", 0.98),
    ("4", "alignment_and_recovery", "lambda_max(H^) eta/2 at t_pk+5",
     lambda st: st.series.at(st.spike.t_pk + 5, "lam_max_hat") * scale, "<", 1),
    ("5", "preconditioner_not_hessian", "max over the window of lambda_max(H) eta/2",
     lambda st: st.series.lam_max_raw.max() * scale, "<", 0.5),
    ("5", "preconditioner_not_hessian", "pre-spike median |v^-ratio along u1 - pure decay|",
     lambda st: np.median(np.abs(st.series.v_ratio_residual[st.pre_spike()])), "<", 1e-3),
    ("5", "preconditioner_not_hessian", "pre-spike median u1^2-weighted g^2/v^",
     lambda st: np.median(st.series.g2_over_v[st.pre_spike()]), "<", 0.15),
]
for row, (claim_id, name, quantity, function, op, bound) in enumerate(spike_checks):
    upper = op in ("<", "<=")
    reduce, extreme = (worst_high, "max") if upper else (worst_low, "min")
    run.claim(claim_id, name, f"{extreme} over the first spikes of {quantity}",
              reduce(per_spike(function)), op, bound)
    if len(stories) > len(claimed):
        run.exploratory(f"all_spikes_{name}_{row}", f"{extreme} over all {len(stories)} "
                        f"examined spikes of {quantity} (claim bound {op} {bound:g})",
                        reduce(per_spike(function, stories)))

# %% [markdown]
# The two readings of $\lambda_{\rm grad}$ agree closely before every onset (the paper's
# definition is ambiguous between them; we assert on B):

# %%
ab_gap = per_spike(lambda st: np.abs(st.series.lam_grad_a - st.series.lam_grad_b)[
    (st.series.index >= st.spike.t_on - 10) & (st.series.index <= st.spike.t_on)].max() * scale,
    stories)
run.exploratory("lam_grad_a_vs_b", "max over examined spikes and [t_on-10, t_on] of "
                "|lambda^A_grad - lambda^B_grad| eta/2 (spec: <= 0.13)", worst_high(ab_gap))
onset_leads = per_spike(lambda st: st.spike.t_on - st.cross_grad, stories)
run.exploratory("lead_lam_grad_onset_min", "min over examined spikes of t_on - "
                "t_cross(lambda^B_grad) (spec range 6-12)", worst_low(onset_leads))
run.exploratory("lead_lam_grad_onset_max", "max over examined spikes of t_on - "
                "t_cross(lambda^B_grad)", worst_high(onset_leads))

# %% [markdown]
# ## Part C: mitigations
#
# If the spikes come from $\hat v$ decaying below the level where $\hat H$ crosses $2/\eta$,
# then three changes should tame them: a large $\epsilon$ caps the preconditioner at $1/\epsilon$
# (with $\epsilon=0.1$, $c\,\lambda_{\max}(H)/\epsilon<2/\eta$ at every step, so spikes are
# impossible); AMSGrad, $\hat v\leftarrow\max(\hat v_{\max},\hat v)$, never lets $\hat v$ decay; and
# a smaller $\beta_2$ makes $\hat v$ track $g^2$ closely, so that a growing instability is caught
# sooner. We train the same network 3000 steps with each, from several initialisations (seeds
# 0–2 in quick mode, 0–5 in paper mode); the claims take the worst seed.
#
# AMSGrad here is the spec's $\max$ over the bias-corrected $\hat v$.
# `torch.optim.Adam(amsgrad=True)` takes the maximum of the raw $v$ and bias-corrects
# afterwards, so its $\hat v$ still shrinks by $(1-\beta_2^t)/(1-\beta_2^{t+1})$ per step, about a
# factor 10 over the first few thousand steps at $\beta_2=0.999$. That is enough to let spikes
# through on some seeds (its spike counts are reported below, not asserted): the fix must stop
# *all* decay.

# %%
variants = {
    "Adam": dict(betas=(beta1, beta2), eps=cfg.eps),
    f"eps = {cfg.eps_large:g}": dict(betas=(beta1, beta2), eps=cfg.eps_large),
    f"beta2 = {cfg.beta2_small:g}": dict(betas=(beta1, cfg.beta2_small), eps=cfg.eps),
    "AMSGrad": dict(betas=(beta1, beta2), eps=cfg.eps, amsgrad="v_hat"),
}
counted = {f"beta2 = {b:g}": dict(betas=(beta1, b), eps=cfg.eps) for b in cfg.beta2_counted}
counted["torch AMSGrad"] = dict(betas=(beta1, beta2), eps=cfg.eps, amsgrad="torch")
eps_name = f"eps = {cfg.eps_large:g}"
ablation, eps_runs = {}, {}  # (seed, name) -> loss curve; seed -> the eps_large trajectory
for seed in cfg.seeds:
    start = net.init(seed)
    for name, options in {**variants, **counted}.items():
        trajectory = adam.run_adam(net.grad_and_loss, start, cfg.ablation_steps, lr,
                                   keep_state=name == eps_name, **options)  # the bound needs theta
        ablation[seed, name] = trajectory.loss
        if name == eps_name:
            eps_runs[seed] = trajectory
ablation_spikes = {key: spikes.detect_spikes(loss) for key, loss in ablation.items()}


def max_amplitude(key):
    return max((s.amplitude for s in ablation_spikes[key]), default=1.0)


for name in {**variants, **counted}:
    counts = [len(ablation_spikes[s, name]) for s in cfg.seeds]
    amplitudes = [round(float(max_amplitude((s, name))), 1) for s in cfg.seeds]
    finals = [f"{ablation[s, name][-1]:.2g}" for s in cfg.seeds]
    print(f"{name:>14}: spikes per seed {counts}, max amplitude {amplitudes}, final {finals}")

# %%
bound_rows = np.arange(0, cfg.ablation_steps, cfg.bound_every)
lam_raw_eps = np.array([[np.linalg.eigvalsh(dense_hessian(net.loss, torch.from_numpy(eps_run.theta[i])).numpy())[-1]
                         for i in bound_rows] for eps_run in eps_runs.values()])  # (seed, row)
c_late = (1 - beta1) / (1 + beta1)  # c_t once its bias correction has faded (t >~ 50)
eps_bound = c_late * lam_raw_eps.max() / cfg.eps_large * scale
first_step_bound = adam.momentum_factor(1, beta1) * lam_raw_eps[:, 0].max() / cfg.eps_large * scale


def short(name):
    """A variant's name as a key: 'beta2 = 0.9' -> 'beta2_0.9'."""
    return name.replace(" = ", "_").replace(" ", "_")


seeds = cfg.seeds
seed_range = f"seeds {seeds[0]}..{seeds[-1]}"
fig, ax = plt.subplots(figsize=(8, 4))
ax.set_yscale("log")
mitigation_data = {"steps": np.arange(1, cfg.ablation_steps + 1)}
for (name, _), c in zip(variants.items(), ["C0", "C1", "C2", "C3"]):
    counts = [len(ablation_spikes[s, name]) for s in seeds]
    curves = [ablation[s, name] for s in seeds]
    mitigation_data.update(plotting.band(ax, mitigation_data["steps"], curves,
                                         f"{name}: {', '.join(map(str, counts))} spikes", c,
                                         lw=1).data(f"loss_{short(name)}"))
    mitigation_data[f"spikes_{short(name)}"] = np.array(counts)
ax.set(xlabel="step t", ylabel="loss", title=f"Mitigations, {seed_range}")
ax.legend()
run.figure("fig4_mitigations", fig, data=mitigation_data,
           caption="Large $\\epsilon$ and AMSGrad remove the spikes (at the price of a higher "
                   "loss); $\\beta_2=0.9$ keeps them, smaller. Lines: median loss over "
                   f"{seed_range}; bands: from their minimum to their maximum at each step; "
                   "legend: spike count on each seed.")

# %% [markdown]
# **6 (`mitigations`).** On every seed: with $\epsilon=0.1$ there are no spikes, and the bound
# $c\,\lambda_{\max}(H)\,\eta/(2\epsilon)<1$ holds along that run (checked every 100 steps,
# with $c=(1-\beta_1)/(1+\beta_1)$); AMSGrad has no spikes; and $\beta_2=0.9$'s largest spike
# is less than half of Adam's. The ratio of each seed is listed after the claim.

# %%
run.claim("6", "mitigations", f"max over seeds of spike count, eps = {cfg.eps_large:g}",
          max(len(ablation_spikes[s, eps_name]) for s in seeds), "<=", 0)
run.claim("6", "mitigations", "max over seeds of c lambda_max(H) eta / (2 eps) along the eps run",
          eps_bound, "<", 1)
run.claim("6", "mitigations", "max over seeds of spike count, AMSGrad",
          max(len(ablation_spikes[s, "AMSGrad"]) for s in seeds), "<=", 0)
small = f"beta2 = {cfg.beta2_small:g}"
run.claim("6", "mitigations", f"max over seeds of max amplitude ({small}) / max amplitude (Adam)",
          max(max_amplitude((s, small)) / max_amplitude((s, "Adam")) for s in seeds), "<", 0.5,
          known_failure="on some seeds of this reconstruction beta2 = 0.9 spikes reach more "
                        "than half of Adam's; per-seed ratios below, spec measured 0.02-0.2")
for s in seeds:
    run.exploratory(f"amplitude_ratio_seed_{s}", f"max amplitude ({small}) / max amplitude "
                    f"(Adam), seed {s}", max_amplitude((s, small)) / max_amplitude((s, "Adam")))
run.exploratory("eps_bound_first_step", "max over seeds of c_1 lambda_max(H_1) eta / (2 eps) at "
                "t = 1, where c_1 = 1/(1+b1) still carries the bias correction", first_step_bound)
run.exploratory("amsgrad_final_loss_ratio", "min over seeds of final loss AMSGrad / Adam",
                min(ablation[s, "AMSGrad"][-1] / ablation[s, "Adam"][-1] for s in seeds))
run.exploratory("torch_amsgrad_spikes", "max over seeds of spike count with "
                "torch.optim.Adam(amsgrad=True) semantics (max of raw v)",
                max(len(ablation_spikes[s, "torch AMSGrad"]) for s in seeds))

# %% [markdown]
# ## Part D (bonus): Adam on a degenerate minimum
#
# On $L=x^k/k$ with $k>2$ the minimum is degenerate: the Hessian vanishes there. GD follows
# the gradient flow $x=(1+(k-2)\eta t)^{-1/(k-2)}$ and converges sublinearly,
# $L\sim t^{-k/(k-2)}$; heavy ball does the same at the effective rate $\eta/(1-\mu)$. Bai, Zhao,
# Zhou, Xu and Zhang prove that Adam converges *linearly* [arXiv 2603.09581]. Their Adam has
# $m_0=g_0$, $v_0=g_0^2$, $\epsilon=0$ and no bias correction; $x_0=1$, $\eta=10^{-3}$,
# $\beta_1=0.9$. The mechanism is the one of Part A seen from the other side: once $g^2\ll v$,
# $v\propto\beta_2^t$, and a step proportional to $x$ requires $x_{t+1}/x_t=q$ with
# $q^{k-2}=\sqrt{\beta_2}$, i.e. a per-step log-loss slope $k\ln\beta_2/(2(k-2))$, which is
# $\ln\beta_2$ at $k=4$. We fit it while $10^{-45}<|x|<10^{-10}$ (below, $g^2=x^6$ underflows
# float64; the run stops when $v$ itself reaches the subnormal range).
#
# The fixed point is stable iff $\beta_1<\beta_2^{k/(2(k-2))}$ and exists iff
# $\beta_1<\beta_2^{(k-1)/(2(k-2))}$: three regimes, shown with $\beta_2\in\{0.91,0.895,0.8\}$.

# %%
k, lr_poly, beta2_poly = 4, cfg.quartic_learning_rate, cfg.quartic_beta2
paper_adam = dict(eps=0.0, bias_correction=False, start_from_gradient=True)
quartic = polynomial.adam(k, 1.0, cfg.quartic_steps, lr_poly, beta1, beta2_poly, **paper_adam)
quartic_gd = polynomial.gradient_descent(k, 1.0, cfg.quartic_steps, lr_poly)
quartic_hb = polynomial.gradient_descent(k, 1.0, cfg.quartic_steps, lr_poly, cfg.heavy_ball_momentum)
regimes = {b: polynomial.adam(k, 1.0, cfg.quartic_steps, lr_poly, beta1, b, **paper_adam)
           for b in cfg.beta2_regimes}
slope = polynomial.fitted_log_slope(quartic, cfg.fit_x_min, cfg.fit_x_max)
rate = polynomial.adam_linear_rate(k, beta2_poly)
flow_gd = polynomial.gradient_flow(quartic_gd.steps - 1, k, lr_poly)
flow_hb = polynomial.gradient_flow(quartic_hb.steps - 1, k, lr_poly / (1 - cfg.heavy_ball_momentum))
power_from = cfg.quartic_steps // 10
print(f"Adam slope {slope:.8f} vs ln b2 = {rate:.8f}; GD x_T / flow = "
      f"{quartic_gd.x[-1] / flow_gd[-1]:.5f}; HB x_T / flow(eta/(1-mu)) = "
      f"{quartic_hb.x[-1] / flow_hb[-1]:.5f}")
for b, trace in regimes.items():
    print(f"beta2 = {b}: regime {polynomial.adam_regime(k, beta1, b)}, min loss "
          f"{trace.loss.min():.2g}, final loss {trace.loss[-1]:.2g} after {len(trace.loss)} steps")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
ax = axes[0]
ax.loglog(quartic_gd.steps, quartic_gd.loss, c="k", label="GD")
ax.loglog(quartic_gd.steps, flow_gd ** k / k, c="k", ls=":", lw=1, label="gradient flow")
ax.loglog(quartic_hb.steps, quartic_hb.loss, c="C1",
          label=f"heavy ball, $\\mu$={cfg.heavy_ball_momentum:g}")
ax.loglog(quartic_hb.steps, flow_hb ** k / k, c="C1", ls=":", lw=1,
          label=r"flow at $\eta/(1-\mu)$")
ax.loglog(quartic.steps, quartic.loss, c="C0", label=f"Adam, $\\beta_2$={beta2_poly:g}")
anchor = np.argmax(np.abs(quartic.x) < cfg.fit_x_max)
linear_theory = quartic.loss[anchor] * np.exp(rate * (quartic.steps - quartic.steps[anchor]))
ax.loglog(quartic.steps, linear_theory, c="C0", ls=":", lw=1, label=r"slope $\ln\beta_2$ per step")
ax.set(xlabel="step t", ylabel="loss", ylim=(1e-310, 10), title=r"(a) $x^4/4$: sublinear vs linear")
ax.legend(loc="lower left")
ax = axes[1]
for (b, trace), c in zip(regimes.items(), ["C0", "C3", "C2"]):
    ax.semilogy(trace.steps, trace.loss, c=c, lw=0.8,
                label=f"$\\beta_2$={b:g}: {polynomial.adam_regime(k, beta1, b)}")
ax.set(xlabel="step t", ylabel="loss", ylim=(1e-310, 10),
       title=rf"(b) three regimes of Adam at $\beta_1$={beta1:g}")
ax.legend()
run.figure("fig5_degenerate", fig,
           data={"loss_gd": quartic_gd.loss, "loss_hb": quartic_hb.loss,
                 "loss_adam": quartic.loss, "flow_gd": flow_gd, "flow_hb": flow_hb,
                 **{f"loss_regime_{b:g}": t.loss for b, t in regimes.items()}},
           caption="$L=x^4/4$, $\\eta=10^{-3}$. Dotted: theory. Adam's runs stop when $v$ "
                   "underflows float64.")

# %% [markdown]
# **7 (`degenerate_linear_rate`, bonus).** Adam's fitted per-step slope of $\ln L$ on $x^4$
# equals $\ln\beta_2$ to $10^{-6}$ relative, and GD's final iterate matches the gradient flow,
# $x_T/(1+2\eta T)^{-1/2}\in[0.99,1.01]$.

# %%
run.claim("7", "degenerate_linear_rate", "|fitted slope of ln L / ln b2 - 1|, Adam on x^4",
          abs(slope / rate - 1), "<", 1e-6)
gd_ratio = quartic_gd.x[-1] / flow_gd[-1]
run.claim("7", "degenerate_linear_rate", "GD x_T / (1 + 2 eta T)^(-1/2)", gd_ratio, ">=", 0.99)
run.claim("7", "degenerate_linear_rate", "GD x_T / (1 + 2 eta T)^(-1/2)", gd_ratio, "<=", 1.01)
run.exploratory("heavy_ball_vs_flow", "HB x_T / flow at eta/(1-mu) (spec: within 0.2%)",
                quartic_hb.x[-1] / flow_hb[-1])
run.exploratory("gd_power", f"fitted exponent of L_GD in t from step {power_from} "
                f"(asymptote {polynomial.sublinear_exponent(k):g})",
                polynomial.fitted_power(quartic_gd, power_from))
run.exploratory("heavy_ball_power", f"fitted exponent of L_HB in t from step {power_from}",
                polynomial.fitted_power(quartic_hb, power_from))
for b, trace in regimes.items():
    run.exploratory(f"regime_{b:g}_min_loss", f"min loss, beta2 = {b:g} "
                    f"({polynomial.adam_regime(k, beta1, b)})", trace.loss.min())
    run.exploratory(f"regime_{b:g}_final_loss", f"final loss, beta2 = {b:g}", trace.loss[-1])

# %% [markdown]
# ## Beyond the paper: $\hat v$-decay is double-edged
#
# Parts A and D describe one mechanism with two outcomes. When the gradient becomes small,
# $\hat v$ decays like $\beta_2^t$ and the effective step grows. At a non-degenerate minimum
# ($x^2$) that growth eventually crosses the stability threshold: spikes. At a degenerate
# minimum ($x^4$) the curvature vanishes faster than the step grows: linear convergence.
# *Hypothesis (derived for this chapter):* removing the decay removes both. AMSGrad keeps
# $\hat v$ non-decreasing, so it should have no spikes on $x^2$ and only GD's sublinear rate,
# $L\sim t^{-2}$, on $x^4$. We run 20,000 steps of each optimiser: on $x^2$ with Part A's
# settings, on $x^4$ with Part D's.
#
# AMSGrad's $\hat v$ holds $g_1^2$ from its first step on, so on $x^2$ it behaves like heavy ball
# with step $\eta/|g_1|$ and converges geometrically at GD's rate; the spec's faster value of
# $L(5000)$ (about $10^{-223}$) is not reproduced and is reported below without assertion.

# %%
steps_ext = cfg.extension_steps
double = {
    ("x^2", "Adam"): polynomial.adam(2, cfg.theta0, steps_ext, lr_1d, beta1, beta2_1d, cfg.eps,
                                     curvature=cfg.curvature),
    ("x^2", "AMSGrad"): polynomial.adam(2, cfg.theta0, steps_ext, lr_1d, beta1, beta2_1d,
                                        cfg.eps, curvature=cfg.curvature, amsgrad="v_hat"),
    ("x^4", "Adam"): polynomial.adam(k, 1.0, steps_ext, lr_poly, beta1, beta2_poly,
                                     **paper_adam),
    ("x^4", "AMSGrad"): polynomial.adam(k, 1.0, steps_ext, lr_poly, beta1, beta2_poly,
                                        amsgrad="v_hat", **paper_adam),
}
envelopes = {key: spikes.running_max(trace.loss, 10) for key, trace in double.items()
             if key[0] == "x^2"}
quadratic_spikes = {key: spikes.detect_spikes(env) for key, env in envelopes.items()}
h_hat_ext = {key: adam.momentum_factor(double[key].steps, beta1) * cfg.curvature
             * double[key].precond * lr_1d / 2 for key in envelopes}
ext_slope = polynomial.fitted_log_slope(double["x^4", "Adam"], cfg.fit_x_min, cfg.fit_x_max)
ams_power = polynomial.fitted_power(double["x^4", "AMSGrad"], steps_ext // 10)

fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True)
titles = {("x^2", "Adam"): f"{len(quadratic_spikes['x^2', 'Adam'])} spike episode(s)",
          ("x^2", "AMSGrad"): f"{len(quadratic_spikes['x^2', 'AMSGrad'])} spikes",
          ("x^4", "Adam"): f"linear, slope {ext_slope:.4f} per step",
          ("x^4", "AMSGrad"): f"sublinear, $L\\sim t^{{{ams_power:.2f}}}$"}
for (row, problem), (col, method) in [((r, p), (c, m)) for r, p in enumerate(["x^2", "x^4"])
                                      for c, m in enumerate(["Adam", "AMSGrad"])]:
    ax, trace = axes[row, col], double[problem, method]
    ax.semilogy(trace.steps, trace.loss, c="C0" if method == "Adam" else "C3", lw=0.6)
    ax.set(title=f"${problem}$, {method}: {titles[problem, method]}", ylim=(1e-310, 10))
    if problem == "x^2":
        twin = ax.twinx()
        twin.semilogy(trace.steps, h_hat_ext[problem, method], c="0.5", lw=0.6)
        twin.axhline(1, c="k", ls="--", lw=0.8)
        twin.set(ylim=(1e-4, 10), ylabel=r"$\hat H\,\eta/2$ (grey)")
        twin.grid(False)
    if row == 1:
        ax.set_xlabel("step t")
    if col == 0:
        ax.set_ylabel("loss")
run.figure("fig6_double_edged", fig,
           data={**{f"loss_{p.replace('^', '')}_{m}": t.loss for (p, m), t in double.items()},
                 **{f"h_hat_x2_{m}": h for (_, m), h in h_hat_ext.items()}},
           caption="The decay of $\\hat v$ gives Adam both its spikes at a non-degenerate "
                   "minimum and its linear rate at a degenerate one; AMSGrad loses both.")

# %% [markdown]
# **E (`vhat_decay_double_edged`).** On $x^2$ the spike detector (on the 10-step envelope)
# finds at least one spike for Adam and none for AMSGrad; on $x^4$ Adam's slope is
# $\ln\beta_2$ (as in claim 7) while AMSGrad's fitted loss exponent, from a tenth of the run
# on, lies in $[-2.1,-1.7]$ (GD-like; asymptote $-2$).

# %%
run.claim("E", "vhat_decay_double_edged", "spike episodes of Adam on x^2",
          len(quadratic_spikes["x^2", "Adam"]), ">=", 1)
run.claim("E", "vhat_decay_double_edged", "spike episodes of AMSGrad on x^2",
          len(quadratic_spikes["x^2", "AMSGrad"]), "<=", 0)
run.claim("E", "vhat_decay_double_edged", "|fitted slope of ln L / ln b2 - 1|, Adam on x^4",
          abs(ext_slope / rate - 1), "<", 1e-6)
run.claim("E", "vhat_decay_double_edged", "fitted loss exponent of AMSGrad on x^4", ams_power,
          ">=", -2.1)
run.claim("E", "vhat_decay_double_edged", "fitted loss exponent of AMSGrad on x^4", ams_power,
          "<=", -1.7)
run.exploratory("amsgrad_x2_loss_5000", "AMSGrad loss on x^2 at step 5000 (spec: 3e-223)",
                double["x^2", "AMSGrad"].loss[min(4999, steps_ext - 1)])
run.exploratory("amsgrad_x4_final_loss", "AMSGrad loss on x^4 at the last step",
                double["x^4", "AMSGrad"].loss[-1])

# %% [markdown]
# ## Negative and unasserted results
#
# - **Lower $\beta_2$ and the number of spikes.** The paper reports fewer spikes at lower
#   $\beta_2$. Here $\beta_2=0.9$ makes the largest spike smaller than Adam's, but not by the
#   factor of two that claim 6 asks on every seed: the ratio is below 0.5 on some seeds and
#   above it on others (seed 1, in both modes), so claim 6 fails. The spec measured 0.02–0.2 on
#   its six seeds; this reconstruction does not reproduce that margin. The counts, below, do
#   not decrease monotonically with $\beta_2$.
# - **False alarms.** $\lambda_{\max}(\hat H)$ is above threshold on about twice as many steps
#   as $\lambda_{\rm grad}(\hat H)$, far milder than the paper's 1010 crossings for 77 spikes.
#   Counted on the overview samples (every 20 steps in quick mode, every step in paper mode),
#   with each signal's episodes scored as a spike predictor.
# - **Later spikes.** Past the first few spikes $\lambda^B_{\rm grad}(\hat H)$ flickers around
#   $2/\eta$ for tens of steps before it stays above, and the loss minimum can come several steps
#   before its last crossing (paper mode reports these spikes separately from claim 3).
# - **A secant proxy.** The Hessian-free curvature along the step actually taken,
#   $c_t(g_{t+1}-g_t)^\top\Delta\theta/(\Delta\theta^\top P_t^{-1}\Delta\theta)$, peaks at the onset
#   and is still far below $2/\eta$ when $\lambda^B_{\rm grad}$ crosses: a nowcast, not a
#   forecast. Its log correlation with $\lambda^B_{\rm grad}$ over the windows is weaker here than
#   the spec's 0.91 (the window and averaging behind that number are not known).
# - The CNN, Transformer and 187M-parameter experiments of the paper are not reproduced.

# %%
for name in ["Adam", small, *counted]:
    if name == "torch AMSGrad":
        continue
    counts = [len(ablation_spikes[s, name]) for s in seeds]
    for extreme, value in (("min", min(counts)), ("max", max(counts))):
        run.exploratory(f"spike_count_{short(name)}_{extreme}", f"{extreme} over {seed_range} of "
                        f"the spike count, {name} ({cfg.ablation_steps} steps)", value)
signals = {"lam_max_hat": "lambda_max(H^)", "lam_grad_b": "lambda^B_grad(H^)",
           "lam_max_raw": "lambda_max(H)"}
scores = {field: spikes.warning_score(overview.index, getattr(overview, field), 2 / lr, found)
          for field in signals}
for field, label in signals.items():
    score = scores[field]
    run.exploratory(f"{field}_steps_above", f"overview samples with {label} > 2/eta "
                    f"(of {len(overview.index)})", score.steps_above)
    run.exploratory(f"{field}_episodes", f"episodes of {label} > 2/eta", score.episodes)
    if score.episodes:
        run.exploratory(f"{field}_precision", f"fraction of {label} episodes containing an "
                        "onset", score.precision)
    run.exploratory(f"{field}_recall", f"fraction of the {len(found)} spikes whose onset is "
                    f"inside a {label} episode", score.recall)
run.exploratory("false_alarm_ratio", "steps above: lambda_max(H^) / lambda^B_grad(H^) "
                "(paper 1010/77; spec measured 335/157)",
                scores["lam_max_hat"].steps_above / max(scores["lam_grad_b"].steps_above, 1))
secant = adam.secant_curvature(train.theta, train.grad, train.precond, beta1)  # row i: step i+1


def secant_in_window(story):
    """The secant proxy on the rows of a spike's diagnostics window."""
    return secant[story.series.index]


run.exploratory("secant_at_grad_crossing", "max over spikes of secant eta/2 at the step "
                "lambda^B_grad crosses 2/eta (1 would be a forecast)",
                worst_high(per_spike(lambda st: secant[st.cross_grad] * scale
                                     if st.cross_grad >= 0 else np.nan, stories)))


def secant_peak_offset(story):
    """|step of the secant's maximum over [t_on - 80, t_pk] - t_on|: 0 if it peaks at onset."""
    before_peak = story.series.index <= story.spike.t_pk
    peak = story.series.index[before_peak][np.argmax(secant_in_window(story)[before_peak])]
    return abs(peak - story.spike.t_on)


run.exploratory("secant_peak_minus_onset", "max over spikes of |argmax secant - t_on| in "
                "[t_on-80, t_pk] (0: it peaks at the onset)",
                worst_high(per_spike(secant_peak_offset, stories)))


def secant_log_correlation(story):
    """corr(log secant, log lambda^B_grad) over the window up to the onset, where both > 0."""
    keep = ((story.series.index <= story.spike.t_on) & (secant_in_window(story) > 0)
            & (story.series.lam_grad_b > 0))
    return np.corrcoef(np.log(secant_in_window(story)[keep]),
                       np.log(story.series.lam_grad_b[keep]))[0, 1]


run.exploratory("secant_log_correlation", "min over spikes of corr(log secant, log "
                "lambda^B_grad) over [t_on-80, t_on] (spec: 0.91)",
                worst_low(per_spike(secant_log_correlation, stories)))

# %% [markdown]
# ## Summary

# %%
run.show_claims()

# %%
run.finish()
