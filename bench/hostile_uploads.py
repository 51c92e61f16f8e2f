"""Hostile .docx uploads against a running gateway: N of them at once (each a few hundred KiB
that unpacks to ~90 MiB of XML, the shape of the file that once took the gateway from 81 to 509
MB), while /healthz is asked every 0.1 s. Reports each refusal's status and seconds, the
gateway's resident memory before and at its peak, and the slowest /healthz answer.

Run: .venv/bin/python -m bench.hostile_uploads [--files 10]"""

import argparse
import io
import json
import random
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import docx
import httpx

from bench.harness import BackgroundLoop, PeakMemory, running_stack, signed_up

NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def hostile_docx(xml_mib: int = 90, seed: int = 0) -> bytes:
    """A real .docx whose document.xml is `xml_mib` MiB of nearly empty, slightly varied runs (so
    it packs ~140 to 1, under any plain ratio cap that lets real files through)."""
    rng = random.Random(seed)
    runs = "".join(f'<w:r><w:rPr><w:sz w:val="{rng.randint(10, 99)}"/></w:rPr><w:t>{rng.choice("ab")}</w:t></w:r>'
                   for _ in range(300))
    paragraph = f"<w:p>{runs}</w:p>"
    repeat = xml_mib * 1024 * 1024 // len(paragraph)
    xml = f'<?xml version="1.0"?><w:document {NS}><w:body>{paragraph * repeat}</w:body></w:document>'.encode()
    template = io.BytesIO()
    docx.Document().save(template)
    packed = io.BytesIO()
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for entry in source.infolist():
            out.writestr(entry.filename, xml if entry.filename == "word/document.xml" else source.read(entry))
    return packed.getvalue()


class Health(BackgroundLoop):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url, self.slowest, self.failures, self.asked = url, 0.0, 0, 0

    def _run(self) -> None:
        with httpx.Client(timeout=10) as http:
            while not self._stop.wait(0.1):
                started = time.perf_counter()
                try:
                    ok = http.get(f"{self.url}/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.asked += 1
                self.failures += not ok
                self.slowest = max(self.slowest, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=10)
    args = parser.parse_args()
    files = [hostile_docx(seed=i) for i in range(args.files)]
    with running_stack() as (config, supervisor), closing(signed_up(config.gateway_url)) as http:
        token = http.headers["Authorization"]
        gateway = PeakMemory(supervisor, ["gateway"])
        before = gateway._process("gateway").memory_info().rss / 2**20

        def upload(content: bytes) -> tuple[int, float, str]:
            started = time.perf_counter()
            response = httpx.post(f"{config.gateway_url}/v1/jobs", headers={"Authorization": token}, timeout=120,
                                  data={"mode": "rewrite", "title": "T", "instructions": "Shorten it.",
                                        "target_words": "100"},
                                  files={"source": ("hostile.docx", content, DOCX)})
            return response.status_code, round(time.perf_counter() - started, 2), response.text[:160]

        with Health(config.gateway_url) as health, gateway, ThreadPoolExecutor(args.files) as pool:
            answers = list(pool.map(upload, files))
        print(json.dumps({
            "files": args.files, "packed_kib": [len(f) // 1024 for f in files[:1]],
            "answers": [{"status": s, "seconds": t} for s, t, _ in answers], "first_refusal": answers[0][2],
            "slowest_refusal_s": max(t for _, t, _ in answers),
            "gateway_rss_mb": {"before": round(before, 1), "peak": gateway.megabytes()["gateway"],
                               "added": round(gateway.megabytes()["gateway"] - before, 1)},
            "healthz": {"asked": health.asked, "failed": health.failures, "slowest_s": round(health.slowest, 3)},
        }, indent=2))


if __name__ == "__main__":
    main()
