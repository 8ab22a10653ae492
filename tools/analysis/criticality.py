"""Neuronal avalanches, branching ratios and discrete power-law fits.

Avalanches (Beggs & Plenz 2003): the spikes of a population (or of the whole network) are
counted in bins of width dt (default: the mean inter-spike interval of the pooled spike train,
T / spikes, rounded to a whole number of simulation time steps). An avalanche is a maximal run
of non-empty bins between empty ones; its size is the number of spikes in it, its duration the
number of bins (x dt in ms). Runs touching the start or the end of the window are incomplete
and left out.

Branching ratio:
  sigma      (Beggs & Plenz 2003) spikes in an avalanche's second bin / spikes in its first
             (0 for one-bin avalanches), averaged over avalanches
  m_mr       multistep-regression estimate (Wilting & Priesemann 2018, robust to subsampling):
             r_k = Cov[A(t), A(t+k)] / Var[A(t)] for k = 1..k_max (40), fitted by r_k = b m^k
             with 0 < b <= 1; undefined when r_1 < 2 / sqrt(bins) (no significant correlation)
A critical branching process has sigma = m = 1, avalanche size exponent 3/2, duration exponent 2
and mean size growing with duration as T^gamma, gamma = (alpha_T - 1) / (alpha_S - 1) = 2.

Power laws (Clauset, Shalizi & Newman 2009): P(x) = x^-alpha / zeta(alpha, x_min) for integers
x >= x_min; alpha by maximum likelihood (the likelihood is convex in alpha), its standard error
from the Fisher information; x_min minimizes the Kolmogorov-Smirnov distance between the tail
and the fit, over candidates with at least 20 samples in the tail.
"""
import math

import numpy as np

# Bernoulli numbers B_2, B_4, ..., B_14 for the Euler-Maclaurin tail of the Hurwitz zeta.
_BERNOULLI = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6]
_EM_TERMS = 10


def hurwitz_zeta(s, q):
    """zeta(s, q) = sum_k>=0 (q + k)^-s for s > 1, q > 0 (q an array or scalar); about 1e-12
    relative accuracy by Euler-Maclaurin summation after 10 explicit terms."""
    q = np.asarray(q, dtype=np.float64)
    k = np.arange(_EM_TERMS, dtype=np.float64)
    head = np.sum((q[..., None] + k) ** (-s), axis=-1)
    a = q + _EM_TERMS
    tail = a ** (1.0 - s) / (s - 1.0) + 0.5 * a ** (-s)
    rising = s  # s (s+1) ... (s + 2j - 2)
    fact = 2.0  # (2j)!
    for j, b in enumerate(_BERNOULLI, start=1):
        tail = tail + b / fact * rising * a ** (-s - 2 * j + 1)
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        fact *= (2 * j + 1) * (2 * j + 2)
    return head + tail


def _golden(f, lo, hi, tol=1e-7):
    g = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    return (a + b) / 2


ALPHA_MAX = 8.0


def fit_alpha(x, xmin):
    """MLE of alpha for integer samples x >= xmin: (alpha, standard error)."""
    x = np.asarray(x)
    x = x[x >= xmin]
    n = x.size
    mlog = float(np.mean(np.log(x)))

    def nll(alpha):  # negative log-likelihood / n
        return math.log(float(hurwitz_zeta(alpha, xmin))) + alpha * mlog
    alpha = _golden(nll, 1.0 + 1e-6, ALPHA_MAX)
    h = 1e-4
    lz = [math.log(float(hurwitz_zeta(alpha + d, xmin))) for d in (-h, 0.0, h)]
    curv = (lz[0] - 2 * lz[1] + lz[2]) / (h * h)
    err = 1.0 / math.sqrt(n * curv) if curv > 0 and n > 0 else math.nan
    return alpha, err


def ks_distance(x, xmin, alpha):
    """Kolmogorov-Smirnov distance between the tail x >= xmin and the fitted power law."""
    x = np.sort(np.asarray(x)[np.asarray(x) >= xmin])
    u = np.unique(x)
    pts = np.unique(np.concatenate([u, u + 1]))
    emp = 1.0 - np.searchsorted(x, pts, side="left") / x.size  # P(X >= pt)
    model = hurwitz_zeta(alpha, pts.astype(np.float64)) / float(hurwitz_zeta(alpha, xmin))
    return float(np.max(np.abs(emp - model)))


def fit_power_law(x, xmin=None, min_tail=20, max_candidates=60):
    """Discrete power-law fit of positive integers x: a dict for report.json."""
    x = np.asarray(x, dtype=np.int64)
    x = x[x >= 1]
    out = {"alpha": None, "alpha_err": None, "xmin": None, "n_tail": 0, "ks": None, "n": int(x.size)}
    if x.size < 2:
        out["note"] = "too few avalanches"
        return out
    if xmin is not None:
        tail = int(np.sum(x >= xmin))
        if tail < 2 or np.all(x[x >= xmin] == xmin):
            out["note"] = f"too few distinct values at or above xmin {xmin}"
            return out
        candidates = [int(xmin)]
    else:
        u = np.unique(x)
        xs = np.sort(x)
        tails = x.size - np.searchsorted(xs, u, side="left")
        # A candidate needs min_tail samples and more than one distinct value above it.
        u = u[(tails >= min_tail) & (u < xs[-1])]
        if u.size == 0:
            out["note"] = f"fewer than {min_tail} avalanches"
            return out
        if u.size > max_candidates:
            u = np.unique(u[np.round(np.geomspace(1, u.size, max_candidates)).astype(int) - 1])
        candidates = [int(v) for v in u]
    best = None
    for xm in candidates:
        alpha, err = fit_alpha(x, xm)
        d = ks_distance(x, xm, alpha)
        if best is None or d < best[0]:
            best = (d, xm, alpha, err)
    d, xm, alpha, err = best
    out.update(alpha=alpha, alpha_err=err, xmin=xm, n_tail=int(np.sum(x >= xm)), ks=d)
    if alpha >= ALPHA_MAX - 1e-3:
        out["note"] = "alpha at the search bound: the tail is not a power law"
    return out


def avalanches(counts):
    """Complete avalanches in a sequence of bin counts: (sizes, durations in bins, first-bin
    counts, second-bin counts, number of incomplete runs left out)."""
    c = np.asarray(counts)
    L = c.size
    empty = np.zeros(0, dtype=np.int64)
    if L == 0:
        return empty, empty, empty, empty, 0
    active = c > 0
    starts = np.flatnonzero(active[1:] & ~active[:-1]) + 1
    ends = np.flatnonzero(active[:-1] & ~active[1:]) + 1
    incomplete = 0
    if active[0]:
        starts = np.r_[0, starts]
    if active[-1]:
        ends = np.r_[ends, L]
    if starts.size == 0:
        return empty, empty, empty, empty, 0
    sizes = np.add.reduceat(c, starts, dtype=np.int64)
    keep = (starts > 0) & (ends < L)
    incomplete = int(np.sum(~keep))
    starts, ends, sizes = starts[keep], ends[keep], sizes[keep]
    durations = (ends - starts).astype(np.int64)
    n1 = c[starts].astype(np.int64)
    second = np.minimum(starts + 1, L - 1)
    n2 = np.where(durations >= 2, c[second], 0).astype(np.int64)
    return sizes, durations, n1, n2, incomplete


def mr_estimator(counts, kmax=40, segment=1 << 22):
    """Multistep-regression branching ratio: (m, b, k values, r_k) or None for short series."""
    A = np.asarray(counts)
    L = A.size
    kmax = min(kmax, L // 10)
    if kmax < 2:
        return None
    ks = np.arange(1, kmax + 1)
    S = float(np.sum(A, dtype=np.float64))
    S2 = float(np.sum(A.astype(np.float64) ** 2))
    dots = np.zeros(kmax)
    for s in range(0, L, segment):
        e = min(s + segment, L)
        x = A[s:min(e + kmax, L)].astype(np.float64)
        for k in ks:
            m = min(e, L - k) - s
            if m > 0:
                dots[k - 1] += float(np.dot(x[:m], x[k:k + m]))
    head = np.cumsum(A[:kmax].astype(np.float64))
    tail = np.cumsum(A[::-1][:kmax].astype(np.float64))
    tail2 = np.cumsum(A[::-1][:kmax].astype(np.float64) ** 2)
    nk = (L - ks).astype(np.float64)
    mx = (S - tail) / nk
    my = (S - head) / nk
    vx = (S2 - tail2) / nk - mx * mx
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (dots / nk - mx * my) / vx
    if not np.all(np.isfinite(r)):
        return None
    if r[0] < 2.0 / math.sqrt(L):  # no significant autocorrelation at lag 1: m is not defined
        return None, None, ks, r
    grid = np.linspace(1e-3, 1.2, 12000)
    P = grid[:, None] ** ks[None, :]
    # b is the subsampling factor of the MR model: 0 < b <= 1.
    b = np.clip((P @ r) / np.sum(P * P, axis=1), 1e-9, 1.0)
    resid = np.sum((r[None, :] - b[:, None] * P) ** 2, axis=1)
    i = int(np.argmin(resid))
    return float(grid[i]), float(b[i]), ks, r


def fit_size_vs_duration(sizes, durations, min_count=2):
    """gamma in <S>(T) ~ T^gamma: least squares on log-log over durations with min_count
    avalanches; (gamma, durations, mean sizes) or (None, ...) when fewer than 3 durations."""
    if sizes.size == 0:
        return None, np.zeros(0), np.zeros(0)
    u, inv, cnt = np.unique(durations, return_inverse=True, return_counts=True)
    mean = np.bincount(inv, weights=sizes) / cnt
    ok = cnt >= min_count
    if np.sum(ok) < 3:
        return None, u, mean
    g = np.polyfit(np.log(u[ok]), np.log(mean[ok]), 1)[0]
    return float(g), u, mean


class AvalancheStats:
    """Numbers and arrays of one avalanche analysis."""

    def __init__(self, name):
        self.name = name
        self.numbers = {}
        self.sizes = self.durations = None
        self.size_fit = self.duration_fit = None
        self.mr = None
        self.mean_size_by_duration = None


def analyze(name, counts, bin_ms, xmin_size=None, xmin_duration=None):
    """Avalanche statistics of a bin-count sequence."""
    res = AvalancheStats(name)
    notes = []
    sizes, durations, n1, n2, incomplete = avalanches(counts)
    res.sizes, res.durations = sizes, durations
    sigma = float(np.mean(n2 / n1)) if sizes.size else math.nan
    mr = mr_estimator(counts)
    res.mr = mr
    sf = fit_power_law(sizes, xmin_size)
    df = fit_power_law(durations, xmin_duration)
    res.size_fit, res.duration_fit = sf, df
    gamma, u, mean = fit_size_vs_duration(sizes, durations)
    res.mean_size_by_duration = (u, mean, gamma)
    gamma_pred = None
    if sf["alpha"] and df["alpha"] and sf["alpha"] > 1:
        gamma_pred = (df["alpha"] - 1) / (sf["alpha"] - 1)
    total = int(np.sum(counts, dtype=np.int64))
    if sizes.size == 0:
        notes.append(f"no complete avalanche: {incomplete} run(s) of non-empty bins touch the window "
                     "ends" + (" (no bin is empty: sample fewer neurons with --avalanche-sample, or use smaller bins)"
                               if incomplete == 1 and np.all(np.asarray(counts) > 0) else ""))
    if mr and mr[0] is None:
        notes.append("m (MR) undefined: no significant autocorrelation at lag 1 "
                     f"(r_1 = {mr[3][0]:.3g} < 2/sqrt(bins))")
    elif mr is None:
        notes.append("m (MR) undefined: fewer than 20 bins or constant activity")
    res.numbers = {
        "bin_ms": bin_ms,
        "bins": int(np.asarray(counts).size),
        "spikes": total,
        "avalanches": int(sizes.size),
        "incomplete_left_out": incomplete,
        "size_mean": float(sizes.mean()) if sizes.size else None,
        "size_max": int(sizes.max()) if sizes.size else None,
        "duration_mean_bins": float(durations.mean()) if sizes.size else None,
        "duration_max_bins": int(durations.max()) if sizes.size else None,
        "duration_mean_ms": float(durations.mean() * bin_ms) if sizes.size else None,
        "size_fit": sf,
        "duration_fit": df,
        "branching_ratio": sigma,
        "branching_ratio_mr": mr[0] if mr else None,
        "mr_amplitude": mr[1] if mr else None,
        "mr_kmax": int(mr[2][-1]) if mr else None,
        "mr_r1": float(mr[3][0]) if mr else None,
        "mr_autocorrelation_ms": (-bin_ms / math.log(mr[0]) if mr and mr[0] and 0 < mr[0] < 1 else None),
        "gamma_fit": gamma,
        "gamma_from_exponents": gamma_pred,
        "notes": notes,
    }
    return res
