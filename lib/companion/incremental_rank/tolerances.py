"""What each array behind the chapter's figures must keep on a machine whose rounding differs
from the baselines' (the portable tier of the figure regression: ``companion.pipeline.tolerance``).

Measured by running the chapter with torch's default CPU kernels, with MKL's AVX2 branch and
with every library's own widest instruction set: GD from a small initialisation in float64
amplifies a rounding difference about a thousand times at each saddle escape and no further,
so its curves move by at most 3e-13 absolute (4e-5 relative on values near 1e-13). They are
compared in log space to 1e-3 decades (0.23%) above 1e-12, below which they are rounding of
O(1) quantities; a 1% change of the learning rate fails 35 of the 47 arrays.
"""

from ..pipeline.tolerance import Close, Events, Exact, LogEnvelope, Trajectory

SADDLE_ESCAPE = Trajectory(LogEnvelope(decades=1e-3, floor=1e-12))
FIXED_SPECTRUM = Exact(atol=1e-15)  # Eckart-Young tails of fixed singular values; E(X_r) ~ 1e-23

TOLERANCES = {
    "fig1_staircase": {
        "eigenvalues": SADDLE_ESCAPE, "errors": SADDLE_ESCAPE, "distances_*": SADDLE_ESCAPE,
        "predicted_stage_times": Exact(),  # t^_s = ln(sigma_s / alpha^2) / (2 ln(1 + mu sigma_s))
        "sigmas": Exact(), "best_errors": FIXED_SPECTRUM},
    "fig2_alpha_sweep": {
        "alphas*": Exact(),
        # the first step past a threshold: rounding may move it by one step (none moved); a 1%
        # learning rate moves the stage times by 1 to 7 steps
        "stage_times": Trajectory(Events(steps=1)),
        "train_errors_*": SADDLE_ESCAPE, "min_distances*": SADDLE_ESCAPE},
    "fig3_under_parameterized": {"best_errors": FIXED_SPECTRUM, "*": SADDLE_ESCAPE},
    "fig4_glrl": {
        "alphas": Exact(), "path_distances*": SADDLE_ESCAPE, "gd_coordinates": SADDLE_ESCAPE,
        # GLRL's path is deterministic but has exact zeros, hence not compared in log space
        "glrl_coordinates": Trajectory(Close(rtol=1e-6, atol=1e-12)),
        "best_coordinates": Exact(rtol=1e-6)},  # through an eigendecomposition: 1e-12 measured
    "fig5_convergence_rates": {
        "t": Exact(),
        "one_over_t": Trajectory(Close(rtol=1e-6)),  # c/t through the median at t_ref
        # linear convergence down to the float64 floor (1.8e-15): compared above 1e-13 only
        "symmetric_k_r_*": Trajectory(LogEnvelope(decades=1e-3, floor=1e-13)),
        "*_k_d_*": SADDLE_ESCAPE},
}
