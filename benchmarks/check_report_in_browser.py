"""Open the HTML report in a real browser (headless Chromium) and check what a reader sees.

Builds the report of a runs folder with the committed claims (``results/``), loads it in Chromium, and
checks in the rendered DOM that every figure decoded (``naturalWidth > 0``), the runs made here come before
the committed results, every committed paper has a section, nothing overflows the page horizontally and the
page is small (report.html at most 3 MB; figures are files beside it). A screenshot is written for the eye.

    python benchmarks/check_report_in_browser.py [--runs DIR] [--out DIR]

Needs ``chromium`` (Debian: ``apt-get install chromium``). Exit 0 when every check passes, 1 otherwise.
``tests/core/test_report_browser.py`` uses `probe` and `screenshot` from here.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

MAX_HTML_BYTES = 3_000_000
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files"]

# Runs after load; the page's <title> carries the result so --dump-dom shows it.
PROBE = """
<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'));
  const sections = [...document.querySelectorAll('section[data-section]')].map(s => ({
    id: s.dataset.section,
    papers: [...s.querySelectorAll('h3[data-paper]')].map(h => h.dataset.paper)}));
  const headlines = [...document.querySelectorAll('ul.claims summary')].map(s => s.textContent.trim());
  const overflow = document.documentElement.scrollWidth > window.innerWidth + 1;
  const visible = document.body.innerText.length;
  document.title = 'PROBE' + JSON.stringify({images: imgs.length, broken, sections, headlines, overflow, visible});
});
</script>
"""


def find_browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def probe(html_path: Path, browser: str) -> dict:
    """What Chromium rendered of `html_path`: image count and the broken ones, sections in order with their
    papers, the claims' headline lines, horizontal overflow, length of the visible text, page bytes."""
    html_path = Path(html_path)
    probed = html_path.with_name("probed-" + html_path.name)  # beside it: relative figure paths resolve
    probed.write_text(html_path.read_text().replace("</body>", PROBE + "</body>"))
    try:
        dom = subprocess.run([browser, *FLAGS, "--window-size=1300,2000", "--virtual-time-budget=10000",
                              "--dump-dom", probed.resolve().as_uri()],
                             capture_output=True, text=True, timeout=120).stdout
    finally:
        probed.unlink()
    match = re.search(r"<title>PROBE(.*?)</title>", dom, re.S)
    if match is None:
        raise RuntimeError("the probe did not run in the browser")
    found = json.loads(match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
                       .replace("&amp;", "&"))
    return {**found, "html_bytes": html_path.stat().st_size}


def screenshot(html_path: Path, browser: str, png: Path, height: int = 3000) -> Path:
    subprocess.run([browser, *FLAGS, f"--window-size=1300,{height}", f"--screenshot={png}",
                    Path(html_path).resolve().as_uri()], capture_output=True, timeout=120)
    return png


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", help="runs folder to report on (default: an empty one, committed results only)")
    parser.add_argument("--out", help="where to write the report and screenshot (default: a temp folder)")
    args = parser.parse_args()
    browser = find_browser()
    if browser is None:
        print("chromium not found: apt-get install chromium", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="paperlab-report-"))
    runs = Path(args.runs) if args.runs else out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "paperlab.cli", "report", str(runs), "--out", str(out),
                    "--committed", "results"], check=True)
    found = probe(out / "report.html", browser)
    shot = screenshot(out / "report.html", browser, out / "report.png")
    order = [s["id"] for s in found["sections"]]
    committed = next((s["papers"] for s in found["sections"] if s["id"] == "committed"), [])
    papers = sorted(p.name for p in Path("results").iterdir() if list(p.glob("claims-*.json")))
    here = next((s["papers"] for s in found["sections"] if s["id"] == "here"), [])
    missing = [p for p in papers if p not in committed and p not in here]
    print(json.dumps({**{k: v for k, v in found.items() if k != "headlines"}, "claims": len(found["headlines"]),
                      "papers_without_section": missing, "screenshot": str(shot)}, indent=1))
    ok = (found["images"] > 0 and not found["broken"] and not missing and not found["overflow"]
          and order in (["here", "committed"], ["committed"], ["here"]) and found["html_bytes"] <= MAX_HTML_BYTES)
    print("report renders in Chromium: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
