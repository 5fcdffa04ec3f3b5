"""Full-size GPT-3 shape check: `gptspec check --config gpt3` beside a torch meta-device forward pass.

Both are whole processes doing the same thing: the forward pass of GPT-3 (96 layers, d_model
12288, vocab 50257, ctx 2048) on tensors that have shapes but no storage. gptspec checks every
named dim of every call against the spec on the way; the meta device only propagates shapes.
Each command runs several times; the median wall and CPU (user + system) time and the largest
peak RSS are printed, with the ratios torch / gptspec (CPU time is the figure that a busy machine
disturbs least). Measured with `/usr/bin/time -v` when it exists, else from the child's
own rusage (os.wait4). Prints figures only: it asserts nothing about speed.

    python benchmarks/check_gpt3.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TORCH_META = '''
import math
import torch

vocab, d_model, n_heads, d_head, n_ctx, n_layers, d_mlp = 50257, 12288, 96, 128, 2048, 96, 49152
ctx = n_ctx


def meta(*shape, dtype=torch.float32):
    return torch.empty(shape, dtype=dtype, device="meta")


def layer_norm(E, gain, bias):
    mean, var = E.mean(dim=0, keepdim=True), E.var(dim=0, keepdim=True, unbiased=False)
    return (E - mean) / torch.sqrt(var + 1e-5) * gain[:, None] + bias[:, None]


def multi_head_attention(E, W_Q, W_K, W_V_down, W_O):
    Q, K, V = W_Q @ E, W_K @ E, W_V_down @ E
    scores = K.transpose(-1, -2) @ Q / math.sqrt(d_head)
    mask = torch.ones(ctx, ctx, dtype=torch.bool, device="meta").triu()
    A = torch.softmax(torch.where(mask, scores, -math.inf), dim=-2)
    return W_O @ (V @ A).reshape(n_heads * d_head, ctx)


def mlp(E, W_up, b_up, W_down, b_down):
    return W_down @ torch.nn.functional.gelu(W_up @ E + b_up[:, None], approximate="tanh") + b_down[:, None]


layers = [
    dict(ln1=(meta(d_model), meta(d_model)), W_Q=meta(n_heads, d_head, d_model), W_K=meta(n_heads, d_head, d_model),
         W_V_down=meta(n_heads, d_head, d_model), W_O=meta(d_model, n_heads * d_head),
         ln2=(meta(d_model), meta(d_model)), W_up=meta(d_mlp, d_model), b_up=meta(d_mlp),
         W_down=meta(d_model, d_mlp), b_down=meta(d_model))
    for _ in range(n_layers)
]
W_E, W_pos, W_U = meta(d_model, vocab), meta(d_model, n_ctx), meta(vocab, d_model)
tokens = torch.empty(ctx, dtype=torch.long, device="meta")

E = W_E[:, tokens] + W_pos[:, :ctx]
for w in layers:
    E = E + multi_head_attention(layer_norm(E, *w["ln1"]), w["W_Q"], w["W_K"], w["W_V_down"], w["W_O"])
    E = E + mlp(layer_norm(E, *w["ln2"]), w["W_up"], w["b_up"], w["W_down"], w["b_down"])
logits = W_U @ layer_norm(E, meta(d_model), meta(d_model))
assert tuple(logits.shape) == (vocab, ctx), logits.shape
print("torch meta forward:", tuple(logits.shape))
'''


def _time_v(cmd: list[str]) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, peak RSS bytes, exit status) from `/usr/bin/time -v`."""
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = [float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr)]
    if wall is None or rss is None or len(cpu) != 2:
        raise RuntimeError(f"cannot read /usr/bin/time output:\n{done.stderr[-2000:]}")
    hours, minutes, seconds = int(wall.group(1) or 0), int(wall.group(2)), float(wall.group(3))
    return hours * 3600 + minutes * 60 + seconds, sum(cpu), int(rss.group(1)) * 1024, done.returncode


def _wait4(cmd: list[str]) -> tuple[float, float, int, int]:
    """The same figures from the child's own rusage, when /usr/bin/time is not installed."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, child.returncode


def measure(cmd: list[str], repeat: int) -> tuple[float, float, int]:
    """Median wall and CPU time, largest peak RSS over ``repeat`` runs; a failing run stops here."""
    runner = _time_v if shutil.which("/usr/bin/time") else _wait4
    walls, cpus, peaks = [], [], []
    for _ in range(repeat):
        wall, cpu, rss, status = runner(cmd)
        if status != 0:
            raise SystemExit(f"{' '.join(cmd)} exited {status}")
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(rss)
    return statistics.median(walls), statistics.median(cpus), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    gptspec = Path(sys.executable).with_name("gptspec")
    ours_cmd = [str(gptspec) if gptspec.exists() else "gptspec", "check", "--config", "gpt3"]
    how = "/usr/bin/time -v" if shutil.which("/usr/bin/time") else "os.wait4 rusage"
    print(f"GPT-3 forward pass at full size, whole process, median of {args.repeat} runs ({how})")
    print(f"  load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (a busy machine inflates wall time)")

    ours = measure(ours_cmd, args.repeat)
    rows = [(" ".join(["gptspec", *ours_cmd[1:]]), ours)]
    try:
        import torch  # noqa: F401 - only to know whether the comparison can run
    except ImportError:
        torch_row = None
    else:
        with tempfile.NamedTemporaryFile("w", suffix="_torch_meta.py", delete=False) as f:
            f.write(TORCH_META)
        try:
            torch_row = measure([sys.executable, f.name], args.repeat)
        finally:
            os.unlink(f.name)
        rows.append(("torch meta device (same shapes, no named dims)", torch_row))

    print(f"  {'command':<50} {'wall':>8} {'CPU':>8} {'peak RSS':>10}")
    for name, (wall, cpu, rss) in rows:
        print(f"  {name:<50} {wall:>7.2f}s {cpu:>7.2f}s {rss / 1e6:>7.0f} MB")
    if torch_row is None:
        print("  torch is not installed: no comparison")
        return
    print(f"  torch meta / gptspec: wall × {torch_row[0] / ours[0]:.1f}, CPU × {torch_row[1] / ours[1]:.1f}, "
          f"peak RSS × {torch_row[2] / ours[2]:.1f}")
    print(f"  gptspec targets: wall ≤ 1.0 s ({'met' if ours[0] <= 1.0 else 'NOT met'}), "
          f"peak RSS ≤ 100 MB ({'met' if ours[2] <= 100e6 else 'NOT met'})")


if __name__ == "__main__":
    main()
