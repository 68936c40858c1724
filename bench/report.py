"""Ratios to the baseline, the issue's targets, and the printed table."""

BASELINE = "baseline"
# Targets from the issue, for this 2-core machine.
SIGN_MIN_RPS = 330
SIGN_MAX_P95_MS = 100
SIGN_MIN_RATIO = 0.5
COUNT_MIN_RATIO = 0.8
# Issue 11: pages straight from gunicorn, through nginx's cache, and confirm.
PAGE_MIN_RATIO = 0.8
PAGE_MAX_P95_MS = 100
CACHED_MIN_RPS = 5000
CONFIRM_MIN_SIGN_RATIO = 1.0


def ratios(results: dict) -> dict[str, float]:
    """Each scenario's requests/s divided by the baseline route's."""
    base = results[BASELINE]["rps"]
    return {
        f"{name}/{BASELINE}": round(result["rps"] / base, 3)
        for name, result in results.items()
        if name != BASELINE and base
    }


def targets(results: dict, ratio: dict[str, float]) -> dict[str, bool]:
    """Whether each of the issue's targets is met (a scenario not run fails)."""
    sign = results.get("sign") or {"rps": 0, "errors": -1, "p95_ms": float("inf")}
    sign_ratio = ratio.get("sign/baseline", 0)
    count_ratio = ratio.get("count.json/baseline", 0)
    none = {"rps": 0, "errors": -1, "p95_ms": float("inf")}
    pages = {}
    for name in ("story", "petition"):
        page = results.get(name) or none
        pages[f"{name}/baseline >= {PAGE_MIN_RATIO}"] = (
            ratio.get(f"{name}/baseline", 0) >= PAGE_MIN_RATIO
        )
        pages[f"{name} p95 < {PAGE_MAX_P95_MS} ms"] = page["p95_ms"] < PAGE_MAX_P95_MS
        cached = results.get(f"{name}.nginx") or none
        pages[f"{name}.nginx >= {CACHED_MIN_RPS} req/s, no errors"] = (
            cached["rps"] >= CACHED_MIN_RPS and cached["errors"] == 0
        )
    confirm = (results.get("confirm") or none)["rps"]
    pages[f"confirm/sign >= {CONFIRM_MIN_SIGN_RATIO}"] = bool(sign["rps"]) and (
        confirm / sign["rps"] >= CONFIRM_MIN_SIGN_RATIO
    )
    return {
        **pages,
        f"sign >= {SIGN_MIN_RPS} req/s": sign["rps"] >= SIGN_MIN_RPS,
        "sign errors == 0": sign["errors"] == 0,
        f"sign p95 < {SIGN_MAX_P95_MS} ms": sign["p95_ms"] < SIGN_MAX_P95_MS,
        f"sign/baseline >= {SIGN_MIN_RATIO}": sign_ratio >= SIGN_MIN_RATIO,
        f"count.json/baseline >= {COUNT_MIN_RATIO}": count_ratio >= COUNT_MIN_RATIO,
    }


def table(results: dict, ratio: dict[str, float]) -> str:
    """The results as a fixed-width text table."""
    header = (
        f"{'scenario':<15}{'secs':>5}{'requests':>9}{'req/s':>8}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'errors':>7}{'x base':>7}"
        f"{'cpu ms':>7}{'core0':>6}{'core1':>6}"
    )
    lines = [header, "-" * len(header)]
    for name, result in results.items():
        factor = ratio.get(f"{name}/{BASELINE}", 1.0)
        lines.append(
            f"{name:<15}{result['seconds']:>5.0f}{result['requests']:>9}"
            f"{result['rps']:>8.1f}{result['p50_ms']:>8.1f}{result['p95_ms']:>8.1f}"
            f"{result['p99_ms']:>8.1f}{result['errors']:>7}{factor:>7.2f}"
            f"{result['server_cpu_ms']:>7.2f}{result['cpu0_busy_pct']:>5}%"
            f"{result['cpu1_busy_pct']:>5}%"
        )
    lines.append(
        "cpu ms: gunicorn CPU time per request; core0/core1: busy share of each"
        " core (gunicorn on core0, wrk on core1, PostgreSQL and Redis float)"
    )
    return "\n".join(lines)


def ratio_lines(ratio: dict[str, float]) -> str:
    """One line per ratio to the baseline."""
    return "\n".join(f"  {name:<22} {value:.2f}" for name, value in ratio.items())


def target_lines(checks: dict[str, bool]) -> str:
    """One PASS/FAIL line per target."""
    return "\n".join(
        f"  {'PASS' if ok else 'FAIL'}  {name}" for name, ok in checks.items()
    )
