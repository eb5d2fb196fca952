"""Open the HTML report in a real browser (headless Chromium) and check what it rendered.

Builds the report from the committed claims (``results/``), loads it in Chromium, and checks in the
rendered DOM that every figure decoded (``naturalWidth > 0``), every paper has a section and nothing
overflows the page horizontally. A full-page screenshot is written for the eye check.

    python benchmarks/check_report_in_browser.py [--runs DIR] [--out DIR]

Needs ``chromium`` (Debian: ``apt-get install chromium``). Exit 0 when every check passes, 1 otherwise.
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

# Runs after load; the page's <title> carries the result so --dump-dom shows it.
PROBE = """
<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt || i.src.slice(0, 40));
  const sections = [...document.querySelectorAll('h2')].map(h => h.textContent.trim());
  const overflow = document.documentElement.scrollWidth > window.innerWidth + 1;
  document.title = 'PROBE' + JSON.stringify({images: imgs.length, broken, sections, overflow});
});
</script>
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", help="runs folder to report on (default: an empty one, committed results only)")
    parser.add_argument("--out", help="where to write the screenshot (default: beside the report, in a temp folder)")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium not found: apt-get install chromium", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="paperlab-report-"))
    runs = Path(args.runs) if args.runs else work / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "paperlab.cli", "report", str(runs), "--out", str(work),
                    "--committed", "results"], check=True)
    html = (work / "report.html").read_text()
    probed = work / "probed.html"
    probed.write_text(html.replace("</body>", PROBE + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1300,2000"]
    dom = subprocess.run([browser, *flags, "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    match = re.search(r"<title>PROBE(.*?)</title>", dom, re.S)
    if match is None:
        print("the probe did not run in the browser", file=sys.stderr)
        return 1
    found = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    out = Path(args.out) if args.out else work
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([browser, *flags, "--window-size=1300,6000", f"--screenshot={out / 'report.png'}",
                    (work / "report.html").as_uri()], capture_output=True, timeout=120)
    papers = sorted(p.name for p in Path("results").iterdir() if list(p.glob("claims-*.json")))
    missing = [p for p in papers if not any(s.lower().startswith(p) for s in found["sections"])]
    print(json.dumps({**found, "papers_without_section": missing, "screenshot": str(out / "report.png")}, indent=1))
    ok = found["images"] > 0 and not found["broken"] and not missing and not found["overflow"]
    print("report renders in Chromium: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
