"""Headless Chromium over the DevTools protocol (websockets, already in the lock): open a page, collect console
errors and uncaught exceptions, evaluate JavaScript, take a screenshot, and type and press keys as a user does
(Input.dispatchKeyEvent: the page sees real key events). Enough for the report's render tests and the review
UI's keyboard-only test."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
# DevTools key events for the named keys (a single character needs none)
KEYS = {"Enter": ("Enter", 13, "\r"), "Tab": ("Tab", 9, ""), "ArrowRight": ("ArrowRight", 39, ""),
        "ArrowLeft": ("ArrowLeft", 37, ""), "Escape": ("Escape", 27, "")}


def find_chromium() -> str | None:
    return next((p for n in CHROMIUM_NAMES if (p := shutil.which(n))), None)


class Page:
    def __init__(self, ws: Any) -> None:
        self.ws, self.next_id, self.errors, self.events = ws, 0, [], []
        self.requests: list[str] = []

    def call(self, method: str, **params: Any) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._event(msg)

    def _event(self, msg: dict) -> None:
        method, p = msg.get("method"), msg.get("params", {})
        self.events.append(method)
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.errors.append("console." + p["type"] + ": " + " ".join(str(a.get("value", a.get("description")))
                                                                      for a in p.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.errors.append("exception: " + str(d.get("exception", {}).get("description") or d.get("text")))
        elif method == "Network.requestWillBeSent":
            self.requests.append(p.get("request", {}).get("url", ""))
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            self.errors.append("log: " + p["entry"].get("text", ""))

    def wait_for(self, event: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while event not in self.events:
            self._event(json.loads(self.ws.recv(timeout=max(end - time.monotonic(), 0.1))))

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                self._event(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                return

    def evaluate(self, expression: str) -> Any:
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"evaluate failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    @contextmanager
    def loading(self, timeout: float = 60) -> Iterator[None]:
        """Wait, after the body runs, for the page it causes (a navigation, a form post) to finish loading."""
        self.events.clear()
        yield
        self.wait_for("Page.loadEventFired", timeout)

    def navigate(self, url: str) -> None:
        with self.loading():
            self.call("Page.navigate", url=url)

    def type(self, text: str) -> None:
        """Text into the focused field, as typing would put it."""
        self.call("Input.insertText", text=text)

    def press(self, key: str) -> None:
        """One key down and up: a character ("a") or a name in KEYS ("Enter")."""
        if key in KEYS:
            code, vk, text = KEYS[key]
        else:
            code, vk, text = (f"Key{key.upper()}" if key.isalpha() else key), ord(key.upper()), key
        down = {"key": key, "code": code, "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk}
        self.call("Input.dispatchKeyEvent", type="keyDown" if text else "rawKeyDown", text=text, **down)
        self.call("Input.dispatchKeyEvent", type="keyUp", **down)

    def screenshot(self, path: Path, clip: tuple[float, float, float, float] | None = None, scale: float = 1.0
                   ) -> Path:
        """A PNG of the page: the viewport, or the `clip` (x, y, width, height in CSS pixels, anywhere on the
        page) at `scale`."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
        if clip is not None:
            x, y, width, height = clip
            params["clip"] = {"x": x, "y": y, "width": width, "height": height, "scale": scale}
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path


@contextmanager
def open_page(url: str, chromium: str, width: int = 1280, height: int = 900) -> Iterator[Page]:
    profile = tempfile.mkdtemp(prefix="joinedup-chromium-")
    proc = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", f"--window-size={width},{height}",
         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        for line in proc.stderr:  # "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/..."
            if m := re.search(r"ws://127\.0\.0\.1:(\d+)/", line):
                port = m.group(1)
                break
        if port is None:
            raise RuntimeError(f"{chromium} did not start its DevTools endpoint")
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        with connect(ws_url, max_size=None, open_timeout=10) as ws:
            page = Page(ws)
            for domain in ("Page", "Runtime", "Log", "Network"):
                page.call(f"{domain}.enable")
            page.call("Page.navigate", url=url)
            page.wait_for("Page.loadEventFired")
            yield page
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
