"""Reading and validating 10 million transactions: time and peak memory.

Run: ``.venv/bin/python benchmarks/bench_read.py [--rows 10000000]``

Each reader runs in its own subprocess on the same CSV and Parquet files, so
peak memory (max RSS) is measured cleanly; the table prints time and memory as
ratios to a plain ``pandas.read_csv``/``read_parquet`` (no validation) and the
memory as a multiple of the resulting frame's in-memory size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

READERS = {
    "pandas (no validation)": (
        "import pandas as pd\n"
        "f = pd.read_csv(PATH) if PATH.endswith('.csv') else pd.read_parquet(PATH)\n"
        "f['date'] = pd.to_datetime(f['date'])"
    ),
    "crmlab.read_transactions": "import crmlab\nf = crmlab.read_transactions(PATH)",
}

# VmHWM (peak resident memory) starts afresh at exec, unlike ru_maxrss, which a
# child inherits from its parent on Linux.
PROBE = """
import json, re, time
def hwm():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
PATH = {path!r}
base = hwm()
t0 = time.perf_counter()
{code}
seconds = time.perf_counter() - t0
peak = hwm()
print(json.dumps({{"seconds": seconds, "peak_mb": (peak - base) / 1e3,
                  "frame_mb": f.memory_usage(deep=True).sum() / 1e6, "rows": len(f)}}))
"""


def make_files(rows: int, folder: Path, seed: int = 1) -> list[Path]:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 1500, rows)
    frame = pd.DataFrame(
        {
            "customer_id": rng.integers(0, rows // 10, rows),
            "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D"),
            "amount": rng.gamma(2.0, 20.0, rows).round(2),
        }
    )
    csv, parquet = folder / "tx.csv", folder / "tx.parquet"
    frame.to_csv(csv, index=False, date_format="%Y-%m-%d")
    frame.to_parquet(parquet, index=False)
    return [csv, parquet]


def run(code: str, path: Path) -> dict:
    # the imports are part of the baseline, the read is what is measured
    setup = "\n".join(line for line in code.splitlines() if line.startswith("import"))
    body = "\n".join(line for line in code.splitlines() if not line.startswith("import"))
    script = (
        setup + "\nimport pyarrow.csv, pyarrow.parquet\n" + PROBE.format(path=str(path), code=body)
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(args.rows, Path(tmp))
        print(f"{'file':<10}{'reader':<28}{'seconds':>9}{'peak MB':>9}{'x frame':>9}{'x time':>8}")
        for path in files:
            results = {name: run(code, path) for name, code in READERS.items()}
            ref = results["pandas (no validation)"]
            for name, res in results.items():
                mem, speed = res["peak_mb"] / res["frame_mb"], res["seconds"] / ref["seconds"]
                print(
                    f"{path.suffix:<10}{name:<28}{res['seconds']:>9.2f}{res['peak_mb']:>9.0f}"
                    f"{mem:>9.2f}{speed:>8.2f}"
                )


if __name__ == "__main__":
    main()
