"""gptspec's performance as one table of ratios, each pair measured side by side in this run.

    python benchmarks/run.py [--quick]

Rows (every ratio compares two things timed in the same run, interleaved round-robin, so a
machine that slows down slows both; "min" is the best of the repeats, "median" the typical one):

- check cost at tiny sizes: CPU µs per call (this thread's) with checks on, in "first" mode and
  off, and off against the undecorated function (``fn.__wrapped__``, checks off inside it);
- check cost at GPT-2-small sizes (d_model 768, 12 heads of 64, ctx 1024, float32): the time
  of the checks alone (``check_call`` + ``check_result`` on the same arrays: exactly what a
  checked call adds) over the time of the unchecked call, both in CPU time (all threads). Timing
  whole calls on and off would
  measure the machine's noise (a few %) instead of a difference of hundredths of a percent;
- causal multi-head attention at GPT-2-small sizes, float32, checks off: the reference, a naive
  loop of ``impl.attention_head`` over heads, ``impl.fast``, and torch's
  ``scaled_dot_product_attention`` with the same QKV and output projections, on as many threads
  as NumPy's BLAS; as time, GFLOP/s of the useful work (projections + the causal half of KᵀQ
  and V·A) and ratio to torch, beside the BLAS ceiling (a 2048² float32 matmul). Then where
  impl.fast and torch differ: the same 2048³ matmul in both libraries, the QKV and output
  projections alone in both, and attention alone (softmax(KᵀQ)V of every head, given Q, K, V):
  impl.fast's worker threads against scaled_dot_product_attention, and both on one thread in
  CPU time (what the kernels cost, least disturbed by a busy machine);
- ``gptspec check --config gpt3`` against a torch meta-device forward pass (wall, peak RSS), by
  ``benchmarks/check_gpt3.py``;
- ``gptspec verify`` with the default profile: CPU ms per example (CPU time: a busy machine
  disturbs it least), reference (checked, and in "first" mode) and fast path.

Prints figures only; asserts nothing about speed. ``--quick`` takes fewer repeats (~1 minute).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import gptspec
from gptspec import GPT2_SMALL, Config, impl
from gptspec.impl import fast, threads
from gptspec.spec import check

HERE = Path(__file__).resolve().parent
TINY = Config(vocab=13, d_model=8, n_heads=2, d_head=3, n_ctx=6, n_layers=2, d_mlp=16, name="tiny")


# ---------------------------------------------------------------------------------------------
# Timing


def interleaved(
    fns: dict[str, Callable[[], Any]],
    repeats: int,
    number: int = 1,
    clock: Callable[[], float] = time.perf_counter,
    pause: float = 0.0,
) -> dict[str, tuple[float, float]]:
    """(min, median) seconds per call of each function, the functions timed in turn, ``repeats`` rounds.

    ``clock`` is wall time by default; CPU-time clocks (``time.thread_time`` for single-threaded
    Python work, ``time.process_time`` for BLAS's threads too) are what other people's
    processes on a shared machine disturb least. ``pause`` seconds before each timing let the
    previous function's thread pool stop spinning (OpenBLAS's threads busy-wait ~0.1 s after a
    call, OpenMP's a little), so that one library's idle threads do not slow the other down.
    """
    for fn in fns.values():
        fn()  # warm up: caches, lazy imports, BLAS buffers
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            time.sleep(pause)
            start = clock()
            for _ in range(number):
                fn()
            times[name].append((clock() - start) / number)
    return {name: (min(t), statistics.median(t)) for name, t in times.items()}


def in_mode(mode: bool | str, fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` run with the checks mode set to ``mode`` (on, off or "first")."""

    def run() -> Any:
        with check.checks(mode):
            return fn()

    return run


@dataclasses.dataclass
class Row:
    section: str
    what: str
    this: str
    baseline: str
    ratio: str


def us(t: tuple[float, float]) -> str:
    return f"{t[0] * 1e6:,.1f} / {t[1] * 1e6:,.1f} µs"


def ms(t: tuple[float, float]) -> str:
    return f"{t[0] * 1e3:,.1f} / {t[1] * 1e3:,.1f} ms"


def times(a: tuple[float, float], b: tuple[float, float]) -> str:
    """a / b on the minima (× slower when > 1)."""
    return f"{a[0] / b[0]:.2f}×"


# ---------------------------------------------------------------------------------------------
# The machine


def blas_runtime() -> dict[str, Any] | None:
    """threadpoolctl's view of NumPy's BLAS (kernel, threads), or None without threadpoolctl."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    for info in threadpoolctl.threadpool_info():
        if info.get("user_api") == "blas":
            return info
    return None


def blas_threads() -> int:
    info = blas_runtime()
    return int(info["num_threads"]) if info else len(os.sched_getaffinity(0))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> list[str]:
    build = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    runtime = blas_runtime()
    lines = [
        f"cores: {len(os.sched_getaffinity(0))} usable of {os.cpu_count()} ({cpu_model()}); "
        f"Python {platform.python_version()}, numpy {np.__version__}, gptspec {gptspec.__version__}",
        f"BLAS (build): {build.get('name')} {build.get('version')}",
    ]
    if runtime:
        lines.append(
            f"BLAS (run time, threadpoolctl): {runtime.get('internal_api')} {runtime.get('version')}, "
            f"kernel {runtime.get('architecture')}, {runtime.get('num_threads')} threads"
        )
    else:
        lines.append("BLAS (run time): threadpoolctl is not installed, so the kernel in use is not known")
    lines.append(
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
        f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}"
    )
    torch = optional_torch()
    lines.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads" if torch else "torch: not installed")
    return lines


def optional_torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(blas_threads())
    return torch


# ---------------------------------------------------------------------------------------------
# (a) What checking costs


def attention_inputs(c: Config, ctx: int, dtype: Any, seed: int = 0) -> tuple[np.ndarray, ...]:
    """E [d_model ctx] and W_Q, W_K, W_V_down [n_heads d_head d_model], W_O [d_model n_heads·d_head]."""
    rng = np.random.default_rng(seed)

    def normal(*shape: int, scale: float = 1.0) -> np.ndarray:
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)).astype(dtype)

    stacked = (c.n_heads, c.d_head, c.d_model)
    return (normal(c.d_model, ctx), normal(*stacked, scale=0.02), normal(*stacked, scale=0.02),
            normal(*stacked, scale=0.02), normal(c.d_model, c.n_heads * c.d_head, scale=0.02))


def calls(c: Config, ctx: int, dtype: Any) -> dict[str, tuple[Callable[..., Any], tuple[Any, ...]]]:
    """The main functions of the spec with arguments of config ``c``: name → (function, args)."""
    E, W_Q, W_K, W_V, W_O = attention_inputs(c, ctx, dtype)
    block = impl.random_block_weights(c, np.random.default_rng(1), dtype=dtype)
    found = {
        "softmax": (impl.softmax, ((W_K[0] @ E).T @ (W_Q[0] @ E),)),  # scores [ctx ctx]
        "attention_pattern": (impl.attention_pattern, (W_Q[0] @ E, W_K[0] @ E)),
        "multi_head_attention": (impl.multi_head_attention, (E, W_Q, W_K, W_V, W_O)),
        "mlp": (impl.mlp, (E, block.W_up, block.b_up, block.W_down, block.b_down)),
        "fast.multi_head_attention": (fast.multi_head_attention, (E, W_Q, W_K, W_V, W_O)),
    }
    if c.n_layers * c.d_model * c.vocab < 1e6:  # the whole model only where it is small
        found["forward"] = (impl.forward, (np.arange(ctx) % c.vocab, impl.random_weights(c, 2, dtype=dtype)))
    return found


def check_cost_tiny(repeats: int) -> list[Row]:
    rows = []
    for name, (fn, args) in calls(TINY, 5, np.float64).items():
        if name.startswith("fast."):
            continue
        t = interleaved(
            {
                "on": in_mode(True, lambda: fn(*args)),
                "first": in_mode("first", lambda: fn(*args)),
                "off": in_mode(False, lambda: fn(*args)),
                "raw": in_mode(False, lambda: fn.__wrapped__(*args)),
            },
            repeats, number=200, clock=time.thread_time,  # tiny arrays: no BLAS threads
        )
        section = "check cost, tiny (CPU)"
        rows.append(Row(section, f"{name}: checked / off", us(t["on"]), us(t["off"]), times(t["on"], t["off"])))
        rows.append(Row(section, f"{name}: first-call mode / off", us(t["first"]), us(t["off"]), times(t["first"], t["off"])))
        rows.append(Row(section, f"{name}: off / undecorated", us(t["off"]), us(t["raw"]), times(t["off"], t["raw"])))
    return rows


def check_cost_gpt2(repeats: int) -> list[Row]:
    rows = []
    for name, (fn, args) in calls(GPT2_SMALL, 1024, np.float32).items():
        plan = fn.__gptspec_plan__
        result = fn(*args)
        t = interleaved(
            {
                "checks": lambda: plan.check_result(result, plan.check_call(args, {})),
                "off": in_mode(False, lambda: fn(*args)),
            },
            repeats, clock=time.process_time,  # the checks' CPU time over the call's, BLAS threads included
        )
        share = t["checks"][0] / t["off"][0]
        rows.append(Row("check cost, GPT-2 small (CPU)", f"{name}: its checks / the unchecked call",
                        us(t["checks"]), ms(t["off"]), f"+{100 * share:.3f}%"))
    return rows


# ---------------------------------------------------------------------------------------------
# (b) Causal multi-head attention at GPT-2-small sizes


def useful_flops(c: Config, ctx: int) -> float:
    """2 × multiply-adds: QKV and output projections, and KᵀQ and V·A over the unmasked half."""
    d_attn = c.n_heads * c.d_head
    projections = 2 * ctx * c.d_model * 3 * d_attn + 2 * ctx * d_attn * c.d_model
    attention = 2 * 2 * c.n_heads * c.d_head * ctx * (ctx + 1) / 2
    return projections + attention


def naive_heads(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V: np.ndarray, W_O: np.ndarray) -> np.ndarray:
    """Σ_h attention_head(E, W_Q[h], W_K[h], W_V_down[h], W_O's block h): one head at a time."""
    d_head = W_Q.shape[1]
    return sum(
        impl.attention_head(E, W_Q[h], W_K[h], W_V[h], W_O[:, h * d_head : (h + 1) * d_head])
        for h in range(W_Q.shape[0])
    )


def stacked_qkv(W_Q: np.ndarray, W_K: np.ndarray, W_V: np.ndarray) -> np.ndarray:
    """[W_Q; W_K; W_V_down] as one [3·heads·d_head d_model] matrix: the QKV projection as one matmul."""
    return np.concatenate([W_Q, W_K, W_V]).reshape(-1, W_Q.shape[2])


def torch_layout(torch: Any, E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V: np.ndarray, W_O: np.ndarray) -> tuple[Any, Any, Any]:
    """x = Eᵀ [ctx d_model], the stacked QKV weights and W_O, as torch tensors (rows layout)."""
    return torch.from_numpy(np.ascontiguousarray(E.T)), torch.from_numpy(stacked_qkv(W_Q, W_K, W_V)), torch.from_numpy(W_O)


def torch_sdpa(torch: Any, E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V: np.ndarray, W_O: np.ndarray) -> Callable[[], Any]:
    """The same work in torch: one fused QKV projection, causal SDPA, the output projection (rows layout)."""
    n_heads, d_head, _ = W_Q.shape
    ctx = E.shape[1]
    x, W_qkv, W_o = torch_layout(torch, E, W_Q, W_K, W_V, W_O)

    def run() -> Any:
        with torch.no_grad():  # batched [1 heads ctx d_head]: unbatched 3-D input takes a ~3× slower path
            q, k, v = (x @ W_qkv.T).view(1, ctx, 3, n_heads, d_head).permute(2, 0, 3, 1, 4)
            heads = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            return heads.transpose(1, 2).reshape(ctx, n_heads * d_head) @ W_o.T  # ΔEᵀ

    return run


def projections(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V: np.ndarray, W_O: np.ndarray) -> Callable[[], Any]:
    """The projections alone in NumPy, on BLAS's threads: [W_Q; W_K; W_V_down] E and W_O times the heads."""
    W_qkv = stacked_qkv(W_Q, W_K, W_V)
    heads = np.ascontiguousarray(W_qkv[: W_O.shape[1]] @ E)
    return lambda: (W_qkv @ E, W_O @ heads)


def torch_projections(torch: Any, E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V: np.ndarray, W_O: np.ndarray) -> Callable[[], Any]:
    """The same two matmuls in torch, in torch_sdpa's layout."""
    x, W_qkv, W_o = torch_layout(torch, E, W_Q, W_K, W_V, W_O)
    heads = (x @ W_qkv[: W_O.shape[1]].T).contiguous()

    def run() -> Any:
        with torch.no_grad():
            return x @ W_qkv.T, heads @ W_o.T

    return run


def core_inputs(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V: np.ndarray) -> tuple[np.ndarray, ...]:
    """Q/√d_head, K, V as [heads d_head ctx], from the benchmark's projections."""
    return tuple(np.ascontiguousarray(W @ E) for W in (W_Q / np.float32(math.sqrt(W_Q.shape[1])), W_K, W_V))


def fast_core(Q: np.ndarray, K: np.ndarray, V: np.ndarray, parallel: bool = True) -> Callable[[], Any]:
    """impl.fast's attention alone, softmax(KᵀQ)V of every head on its worker threads (or, not
    ``parallel``, one group after another in this thread), as inside multi_head_attention. No spec
    function computes attention without its projections, so this reaches into impl.fast's private
    ``_attend`` and runs it with impl.threads, as impl.fast does."""
    out = np.empty_like(V)
    jobs = [functools.partial(fast._attend, Q[g], np.swapaxes(K[g], -1, -2), V[g], True, "benchmark", out[g])
            for g in threads.groups(Q.shape[0])]

    def run() -> np.ndarray:
        threads.run_jobs(jobs, parallel=parallel)
        return out

    return run


def torch_core(torch: Any, Q: np.ndarray, K: np.ndarray, V: np.ndarray, one_thread: bool = False) -> Callable[[], Any]:
    """scaled_dot_product_attention alone on the same Q, K, V, batched [1 heads ctx d_head]
    (``one_thread``: on one thread, in this one)."""
    q, k, v = (torch.from_numpy(np.ascontiguousarray(X.transpose(0, 2, 1)))[None] for X in (Q, K, V))
    scale = math.sqrt(Q.shape[1])
    q = q * scale  # SDPA divides by √d_head itself

    def run() -> Any:
        with torch.no_grad():
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)

    def on_one_thread() -> Any:
        torch_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return run()
        finally:
            torch.set_num_threads(torch_threads)

    return on_one_thread if one_thread else run


def attention_speed(repeats: int) -> tuple[list[Row], list[str]]:
    c, ctx = GPT2_SMALL, 1024
    E, W_Q, W_K, W_V, W_O = args = attention_inputs(c, ctx, np.float32)
    fns: dict[str, Callable[[], Any]] = {
        "reference": lambda: impl.multi_head_attention(*args),
        "naive per-head loop": lambda: naive_heads(*args),
        "impl.fast": lambda: fast.multi_head_attention(*args),
    }
    A = np.random.default_rng(3).standard_normal((2048, 2048), dtype=np.float32)
    core = core_inputs(E, W_Q, W_K, W_V)
    parts: dict[str, Callable[[], Any]] = {
        "NumPy projections": projections(*args), "NumPy sgemm 2048³": lambda: A @ A, "fast core": fast_core(*core)
    }
    torch = optional_torch()
    if torch is not None:
        fns["torch SDPA"] = torch_sdpa(torch, *args)
        A_t = torch.from_numpy(A)
        parts |= {"torch projections": torch_projections(torch, *args), "torch sgemm 2048³": lambda: A_t @ A_t,
                  "SDPA core": torch_core(torch, *core)}
    with check.checks(False):
        t = interleaved(fns | parts, repeats, pause=0.3)
        one_thread = interleaved({"fast": fast_core(*core, parallel=False)}
                                 | ({"SDPA": torch_core(torch, *core, one_thread=True)} if torch is not None else {}),
                                 repeats, clock=time.thread_time)
        error = float(np.abs(fast.multi_head_attention(*args) - impl.multi_head_attention(*args)).max())
        scale = float(np.abs(impl.multi_head_attention(*args)).max())
    flops = useful_flops(c, ctx)
    d_attn = c.n_heads * c.d_head
    projection_flops = 2 * ctx * c.d_model * 4 * d_attn
    base = "torch SDPA" if "torch SDPA" in t else "reference"
    section = "MHA GPT-2 small, causal, f32"
    rows = [
        Row(section, f"{name} ({flops / t[name][0] / 1e9:.0f} GFLOP/s)", ms(t[name]),
            f"{base} {t[base][0] * 1e3:.1f} ms", times(t[name], t[base]))
        for name in fns
    ]
    rows.append(Row(section, f"NumPy sgemm 2048³ ({2 * 2048**3 / t['NumPy sgemm 2048³'][0] / 1e9:.0f} GFLOP/s): the ceiling",
                    ms(t["NumPy sgemm 2048³"]), "", ""))
    notes = [f"useful work {flops / 1e9:.2f} GFLOP per call, {projection_flops / 1e9:.2f} of it in the projections; "
             f"impl.fast differs from the reference by {error / scale:.1e} of the largest output"]
    if torch is None:
        notes.append("torch is not installed: no SDPA row")
        return rows, notes
    section = "where impl.fast / torch SDPA differ"
    rows.append(Row(section, "sgemm 2048³: NumPy's BLAS / torch's", ms(t["NumPy sgemm 2048³"]),
                    ms(t["torch sgemm 2048³"]), times(t["NumPy sgemm 2048³"], t["torch sgemm 2048³"])))
    rows.append(Row(section, f"the projections alone ({projection_flops / 1e9:.1f} GFLOP): NumPy / torch",
                    ms(t["NumPy projections"]), ms(t["torch projections"]),
                    times(t["NumPy projections"], t["torch projections"])))
    rows.append(Row(section, "attention alone, softmax(KᵀQ)V of 12 heads: impl.fast / SDPA",
                    ms(t["fast core"]), ms(t["SDPA core"]), times(t["fast core"], t["SDPA core"])))
    rows.append(Row(section, "the same on one thread, its CPU time: impl.fast / SDPA",
                    ms(one_thread["fast"]), ms(one_thread["SDPA"]), times(one_thread["fast"], one_thread["SDPA"])))
    return rows, notes


# ---------------------------------------------------------------------------------------------
# (c) gptspec check --config gpt3, by benchmarks/check_gpt3.py; (d) gptspec verify


def gpt3_check(repeats: int) -> tuple[list[Row], list[str]]:
    if not (HERE / "check_gpt3.py").exists():
        return [], ["benchmarks/check_gpt3.py is missing: no gptspec check row"]
    sys.path.insert(0, str(HERE))
    import check_gpt3

    gptspec_cli = Path(sys.executable).with_name("gptspec")
    ours = check_gpt3.measure([str(gptspec_cli) if gptspec_cli.exists() else "gptspec", "check", "--config", "gpt3"], repeats)
    section = "gptspec check --config gpt3"
    if optional_torch() is None:
        return [Row(section, "gptspec (wall, peak RSS)", f"{ours[0]:.2f} s, {ours[2] / 1e6:.0f} MB", "", "")], []
    with tempfile.NamedTemporaryFile("w", suffix="_torch_meta.py", delete=False) as f:
        f.write(check_gpt3.TORCH_META)
    try:
        meta = check_gpt3.measure([sys.executable, f.name], repeats)
    finally:
        os.unlink(f.name)
    return [
        Row(section, "wall, median of runs: gptspec / torch meta", f"{ours[0]:.2f} s", f"{meta[0]:.2f} s",
            f"{ours[0] / meta[0]:.2f}×"),
        Row(section, "peak RSS: gptspec / torch meta", f"{ours[2] / 1e6:.0f} MB", f"{meta[2] / 1e6:.0f} MB",
            f"{ours[2] / meta[2]:.2f}×"),
    ], []


def verify_speed(quick: bool) -> tuple[list[Row], list[str]]:
    profile = "quick" if quick else "default"
    only = ["attention_pattern", "attention_head", "multi_head_attention"]  # what impl.fast provides
    per_example = {}
    for name, target, mode in (("reference, checked", "gptspec.impl", True),
                               ("reference, first-call mode", "gptspec.impl", "first"),
                               ("impl.fast, checked", "gptspec.impl.fast", True)):
        with check.checks(mode):
            cpu = time.process_time()
            report = gptspec.verify(target, profile=profile, only=only, seed=0)
            cpu = time.process_time() - cpu
        examples = max(sum(r.examples for r in report.results), 1)
        per_example[name] = (cpu / examples, report.seconds / examples, examples, report.ok)
    base = per_example["reference, checked"][0]
    rows = [
        Row(f"gptspec verify, profile {profile}",
            f"{name}: CPU per example ({n} examples, wall {wall * 1e3:.1f} ms, {'pass' if ok else 'FAIL'})",
            f"{t * 1e3:.2f} ms", f"{base * 1e3:.2f} ms", f"{t / base:.2f}×")
        for name, (t, wall, n, ok) in per_example.items()
    ]
    return rows, ["verify: the attention properties only (what impl.fast provides), seed 0; drawing examples "
                  "(Hypothesis) takes most of the time, and a profile's time budget ends a search early, so "
                  "the number of examples differs between rows"]


# ---------------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    header = Row("section", "measurement", "this (min / median)", "baseline", "ratio")
    widths = [max(len(getattr(r, f.name)) for r in [header, *rows]) for f in dataclasses.fields(Row)]
    lines = []
    for i, r in enumerate([header, *rows]):
        cells = [getattr(r, f.name) for f in dataclasses.fields(Row)]
        lines.append("  ".join(c.ljust(w) if j < 2 else c.rjust(w) for j, (c, w) in enumerate(zip(cells, widths))))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats: about a minute")
    quick = parser.parse_args().quick
    repeats = 5 if quick else 10
    started = time.perf_counter()
    print("\n".join(machine()))
    rows = check_cost_tiny(repeats) + check_cost_gpt2(3 if quick else 5)
    notes: list[str] = []
    for more, said in (attention_speed(repeats), gpt3_check(1 if quick else 3), verify_speed(quick)):
        rows += more
        notes += said
    print()
    print(table(rows))
    print()
    print("\n".join(f"- {note}" for note in notes))
    print(f"- {'--quick, ' if quick else ''}{time.perf_counter() - started:.0f} s in all; "
          f"every ratio is of minima measured side by side in this run")


if __name__ == "__main__":
    main()
