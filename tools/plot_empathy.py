#!/usr/bin/env python3
"""Plot the empathy model on a synthetic smile series and measure it: the figures and numbers of docs/empathy.md.

Usage: python tools/plot_empathy.py [--out docs/img]. Pure model, no camera: matplotlib's Agg backend only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from avatar.empathy import FAMILIARITY_PRESETS, Condition, EmpathyModel, EmpathySettings  # noqa: E402
from avatar.expression import Expression  # noqa: E402
from tools.synthetic import FPS, smile_series  # noqa: E402


def run(t, x, **kw):
    model = EmpathyModel(EmpathySettings(**kw))
    echoes, events = [], []
    for ti, xi in zip(t, x, strict=True):
        echoes.append(model.step(float(ti), Expression(True, smile=float(xi))))
        events += model.pop_events()
    return echoes, events


def col(echoes, name="smile"):
    return np.array([getattr(e, name) for e in echoes], dtype=float)


def lagged_corr(echo, person, max_lag_s=4.0):
    out = []
    for k in range(int(round(max_lag_s * FPS)) + 1):
        a, b = echo[k:], person[: len(person) - k]
        out.append(0.0 if a.std() < 1e-9 or b.std() < 1e-9 else float(np.corrcoef(a, b)[0, 1]))
    return np.array(out)


def plot_familiarity_load(t, x, out: Path) -> None:
    fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True, sharey=True)
    for ax, load in zip(axes, (0.1, 0.9), strict=True):
        ax.plot(t, x, color="0.75", lw=2, label="person's smile")
        for (name, fam), color in zip(FAMILIARITY_PRESETS.items(), ("tab:blue", "tab:orange", "tab:green"), strict=True):
            echoes, events = run(t, x, familiarity=fam, load=load, seed=1)
            y = col(echoes)
            ax.plot(t, y, color=color, lw=1.5, label=f"{name} ({fam})")
            lapsed = col(echoes, "lapse").astype(bool)
            if lapsed.any():
                ax.plot(t[lapsed], y[lapsed], ".", color=color, ms=3)
        ax.set_title(f"load {load}" + ("  (dots: a lapsed event's trace)" if load > 0.5 else ""))
        ax.set_ylabel("echo_smile")
        ax.set_ylim(0, 1)
    axes[0].legend(loc="upper right", fontsize=8, ncol=4)
    axes[-1].set_xlabel("t (s)")
    fig.suptitle("Echo of a smiling-on-and-off person, seed 1")
    fig.tight_layout()
    fig.savefig(out / "empathy_familiarity_load.png", dpi=90)
    plt.close(fig)


def plot_conditions(t, x, out: Path) -> None:
    fig, axes = plt.subplots(4, 1, figsize=(10, 7.5), sharex=True, sharey=True)
    for ax, (cond, kw) in zip(axes, ((Condition.MIMIC, {}), (Condition.DELAYED, {"delay_s": 2.0}),
                                      (Condition.SHAM, {}), (Condition.STATIC, {})), strict=True):
        echoes, _ = run(t, x, condition=cond, familiarity=0.9, load=0.1, seed=1, **kw)
        ax.plot(t, x, color="0.75", lw=2)
        ax.plot(t, col(echoes), color="tab:red", lw=1.5)
        ax.set_title(cond.value + (" (delay 2 s)" if kw else ""), fontsize=9)
        ax.set_ylim(0, 1)
    axes[-1].set_xlabel("t (s)")
    fig.suptitle("Study conditions, familiarity 0.9, load 0.1, seed 1 (grey: person, red: echo)")
    fig.tight_layout()
    fig.savefig(out / "empathy_conditions.png", dpi=90)
    plt.close(fig)


def anticipation_numbers():
    """Time from the person's onset to the echo reaching 50 % and 90 % of its peak, with anticipation on and off."""
    t = np.arange(0.0, 6.0, 1.0 / FPS)
    x = 0.8 * np.minimum(np.clip((t - 1.0) / 0.4, 0, 1), np.clip((4.0 - t) / 0.4, 0, 1))
    rows = []
    for name, fam in FAMILIARITY_PRESETS.items():
        for guard in (True, False):
            times = {}
            for ant in (True, False):
                y = col(run(t, x, familiarity=fam, load=0.1, anticipation=ant, guard=guard)[0])
                times[ant] = (t[np.argmax(y >= 0.5 * y.max())] - 1.0, t[np.argmax(y >= 0.9 * y.max())] - 1.0)
            rows.append((name, guard, times[False], times[True]))
    return t, x, rows


def plot_anticipation(out: Path) -> None:
    t = np.arange(0.0, 6.0, 1.0 / FPS)
    x = 0.8 * np.minimum(np.clip((t - 1.0) / 0.4, 0, 1), np.clip((4.0 - t) / 0.4, 0, 1))
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(t, x, color="0.75", lw=2, label="person's smile")
    on = run(t, x, familiarity=0.9, load=0.1)[0]
    off = run(t, x, familiarity=0.9, load=0.1, anticipation=False)[0]
    ax.plot(t, col(on, "anticipated_smile"), ":", color="tab:purple", label="anticipated_smile (250 ms ahead)")
    ax.plot(t, col(on), color="tab:green", label="echo, anticipation on")
    ax.plot(t, col(off), "--", color="tab:green", label="echo, anticipation off")
    ax.set_xlim(0.5, 5.5)
    ax.set_ylim(0, 1)
    ax.set_xlabel("t (s)")
    ax.legend(fontsize=8)
    ax.set_title("A friend (0.9) at load 0.1: anticipation lets the echo start sooner")
    fig.tight_layout()
    fig.savefig(out / "empathy_anticipation.png", dpi=90)
    plt.close(fig)


def checks(series_seeds=range(8), seeds=(1, 2)) -> dict:
    """The held-out checks of issue 5, on synthetic series: worst case over series and seeds."""
    worst = {"ratio": np.inf, "mimic_r": np.inf, "mimic_lag_s": 0.0, "delayed_r": np.inf, "delayed_lag_err_s": 0.0,
             "sham_abs_r": 0.0, "static_max": 0.0, "seed_diff": np.inf, "fam_gain": np.inf}
    for s in series_seeds:
        t, x = smile_series(s)
        for seed in seeds:
            hi = col(run(t, x, familiarity=0.9, load=0.1, seed=seed)[0])
            lo = col(run(t, x, familiarity=0.1, load=0.9, seed=seed)[0])
            worst["ratio"] = min(worst["ratio"], hi.mean() / lo.mean())
            r = lagged_corr(hi, x)
            worst["mimic_r"] = min(worst["mimic_r"], r.max())
            worst["mimic_lag_s"] = max(worst["mimic_lag_s"], np.argmax(r) / FPS)
            d = lagged_corr(col(run(t, x, condition=Condition.DELAYED, delay_s=2.0, seed=seed)[0]), x)
            worst["delayed_r"] = min(worst["delayed_r"], d.max())
            worst["delayed_lag_err_s"] = max(worst["delayed_lag_err_s"], abs(np.argmax(d) / FPS - 2.0))
            sh = lagged_corr(col(run(t, x, condition=Condition.SHAM, seed=seed)[0]), x)
            worst["sham_abs_r"] = max(worst["sham_abs_r"], np.abs(sh).max())
            worst["static_max"] = max(worst["static_max"], col(run(t, x, condition=Condition.STATIC, seed=seed)[0]).max())
            default = run(t, x, seed=seed)[0]
            worst["fam_gain"] = min(worst["fam_gain"], default[-1].familiarity - default[0].familiarity)
        a = col(run(t, x, load=0.9, seed=1)[0])
        b = col(run(t, x, load=0.9, seed=2)[0])
        worst["seed_diff"] = min(worst["seed_diff"], np.abs(a - b).max())
    return worst


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "img")
    p.add_argument("--no-checks", action="store_true", help="only draw the figures")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t, x = smile_series(0)
    plot_familiarity_load(t, x, args.out)
    plot_conditions(t, x, args.out)
    plot_anticipation(args.out)
    print(f"figures written to {args.out}")
    print("\nanticipation (step smile 0 -> 0.8 in 0.4 s, load 0.1): time from the person's onset to 50 % / 90 % of the echo's peak")
    for name, guard, off, on in anticipation_numbers()[2]:
        print(f"  {name:12s} guard {'on ' if guard else 'off'}: off {off[0]:.2f} / {off[1]:.2f} s   on {on[0]:.2f} / {on[1]:.2f} s"
              f"   shorter by {off[0] - on[0]:.2f} / {off[1] - on[1]:.2f} s")
    if not args.no_checks:
        print("\nheld-out checks on 8 synthetic series x seeds 1, 2 (worst case):")
        for k, v in checks().items():
            print(f"  {k:18s} {v:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
