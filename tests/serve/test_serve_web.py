"""The web page in headless Chromium (Debian's /usr/bin/chromium through the Python `playwright` package):
upload a clip, speak, and check that the audio element holds a non-empty result that plays and that both
spectrogram/F0 pictures are drawn. The screenshot is kept at out/test-artifacts/serve_web.png (or under
$DEEPASMR_TEST_ARTIFACTS)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed "
                                "(scripts/setup.sh installs it)")

PLAY_CHECK = """async () => {
  const audio = document.getElementById('result-audio');
  if (audio.readyState < 1) await new Promise((ok) => audio.addEventListener('loadedmetadata', ok, {once: true}));
  audio.muted = true;  // muted media may play without a user gesture
  let played = true;
  try { await audio.play(); } catch (e) { played = String(e); }
  for (let i = 0; i < 100 && audio.currentTime === 0 && !audio.ended; i++) {
    await new Promise((ok) => setTimeout(ok, 100));  // a busy machine may take a while to start playback
  }
  const blob = await (await fetch(audio.src)).blob();
  const link = document.getElementById('download');
  return {duration: audio.duration, played, time: audio.currentTime, error: audio.error && audio.error.code,
          size: blob.size, type: blob.type, download: link.getAttribute('download'), sameBlob: link.href === audio.src};
}"""


def artifact_path() -> Path:
    root = Path(os.environ.get("DEEPASMR_TEST_ARTIFACTS") or REPO / "out" / "test-artifacts")
    root.mkdir(parents=True, exist_ok=True)
    return root / "serve_web.png"


def test_page_uploads_speaks_plays_and_draws(live, speaker_clip, tmp_path):
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.on("request", lambda r: r.url.startswith(live.url) or r.url.startswith("blob:")
                    or problems.append(f"left the server: {r.url}"))
            page.goto(f"{live.url}/")
            try:
                page.set_input_files("#clip", str(speaker_clip))
                page.fill("#transcript", "The little boat drifted slowly across the lake.")
                page.fill("#text", "Soft rain.")
                page.select_option("#style", "asmr")
                page.fill("#seed", "1")
                page.fill("#steps", "2")
                page.fill("#candidates", "2")
                page.fill("#phone-guidance", "1.5")
                page.click("#speak")
                page.wait_for_function("['done', 'error'].includes(document.body.dataset.state)", timeout=120_000)
                status = page.text_content("#status")
                assert page.evaluate("document.body.dataset.state") == "done", status
                audio = page.evaluate(PLAY_CHECK)
                widths = page.evaluate("['prompt-plot', 'output-plot'].map((id) => document.getElementById(id)"
                                       ".naturalWidth)")
                info = page.text_content("#result-info")
            finally:  # kept whether or not the page worked: it shows what a person would have seen
                shot = tmp_path / "serve_web.png"
                page.screenshot(path=str(shot), full_page=True)
                shutil.copy(shot, artifact_path())
        finally:
            browser.close()
    assert audio["played"] is True and audio["error"] is None, audio
    assert audio["duration"] > 0.1 and audio["time"] > 0, audio
    assert audio["size"] > 1000 and audio["type"] == "audio/wav", audio
    assert audio["sameBlob"] and audio["download"] == "deepasmr_asmr.wav", audio
    assert all(w > 500 for w in widths), widths
    assert "N2A" in info and "phone guidance 1.5" in info  # the request carried it, the server used it
    assert not problems, problems
    assert artifact_path().stat().st_size > 10_000
