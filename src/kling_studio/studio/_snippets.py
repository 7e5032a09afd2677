"""Teaching: the exact HTTP calls behind a task, and the same calls as curl and as httpx.

The key is always written as the environment variable (`$FOXAPI_API_KEY` in a shell,
`os.environ["FOXAPI_API_KEY"]` in Python; `JUPYTERHUB_API_TOKEN` on a class gateway named by the
environment, config.key_variable), never as its value: nothing here ever reads the key, and as
a second guard every text is scrubbed of the value found in the environment.
"""

from __future__ import annotations

import json
import re
import shlex
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .. import config
from .. import contract as c
from .._secrets import scrub
from ..errors import InputError
from ..history._records import TaskRecord
from ..models import PreparedRequest, Task, VideoRequest
from ..pictures import is_url

KEY_SHELL = "$FOXAPI_API_KEY"


def _auth_header(key_env: str) -> str:
    return f"Bearer ${key_env}"


TIMEOUT_S = 30


@dataclass(frozen=True)
class HttpCall:
    """One HTTP request as sent: method, full URL, headers (the key as `$` and its variable),
    body."""

    method: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any] | None = None
    key_env: str = config.API_KEY_ENV  # the variable the snippets read the key from

    def http(self) -> str:
        """The request as HTTP/1.1 text."""
        parts = urllib.parse.urlsplit(self.url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"{self.method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        text = "\n".join(lines)
        if self.body is not None:
            text += "\n\n" + _json(self.body)
        return _scrub(text)

    def curl(self) -> str:
        """A curl command; the Authorization header is double-quoted so the shell expands the
        variable, everything else is single-quoted by shlex (quotes and unicode are safe)."""
        lines = ["curl -sS"]
        if self.method != "GET":
            lines[0] += f" -X {self.method}"
        lines[0] += f" {shlex.quote(self.url)}"
        for name, value in self.headers.items():
            if name == "Authorization":
                lines.append(f'-H "Authorization: {_auth_header(self.key_env)}"')
            else:
                lines.append(f"-H {shlex.quote(f'{name}: {value}')}")
        if self.body is not None:
            lines.append(f"--data-raw {shlex.quote(_json(self.body))}")
        return _scrub(" \\\n  ".join(lines))

    def httpx(self) -> str:
        """The same call as a small Python script with httpx."""
        headers = {k: v for k, v in self.headers.items() if k != "Authorization"}
        args = [_py(self.url)]
        header_items = ['"Authorization": f"Bearer {key}"']
        header_items += [f"{_py(k)}: {_py(v)}" for k, v in headers.items() if k != "Content-Type"]
        args.append("headers={" + ", ".join(header_items) + "}")
        if self.body is not None:
            args.append("json=" + _py(self.body, level=1))  # httpx sets the Content-Type
        args.append(f"timeout={TIMEOUT_S}")
        call = f"response = httpx.{self.method.lower()}(\n"
        call += "".join(f"    {a},\n" for a in args) + ")"
        return _scrub(
            "import os\n\nimport httpx\n\n"
            f"key = os.environ[{_py(self.key_env)}]\n"
            f"{call}\n"
            "response.raise_for_status()\n"
            "print(response.json())\n"
        )

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "headers": self.headers, "body": self.body}


@dataclass(frozen=True)
class Snippets:
    """A task's create request, its last answer, and both calls as curl and httpx."""

    create: HttpCall
    status: HttpCall | None = None  # GET /v1/tasks/{id}, when the task has an id
    response: dict[str, Any] | None = None  # the last JSON the server sent about the task
    notes: tuple[str, ...] = field(default=())

    @property
    def curl(self) -> str:
        return self.create.curl()

    @property
    def httpx(self) -> str:
        return self.create.httpx()

    @property
    def status_curl(self) -> str | None:
        return self.status.curl() if self.status else None

    @property
    def status_httpx(self) -> str | None:
        return self.status.httpx() if self.status else None

    def sections(self) -> list[tuple[str, str, str]]:
        """(title, language, text) in reading order."""
        out = [
            ("Create request (HTTP)", "http", self.create.http()),
            ("Create with curl", "bash", self.create.curl()),
            ("Create with Python (httpx)", "python", self.create.httpx()),
        ]
        if self.status is not None:
            out += [
                ("Status request (HTTP)", "http", self.status.http()),
                ("Status with curl", "bash", self.status.curl()),
                ("Status with Python (httpx)", "python", self.status.httpx()),
            ]
        if self.response is not None:
            out.append(("Last response (JSON)", "json", _scrub(_json(self.response))))
        return out

    def __str__(self) -> str:
        blocks = [f"## {title}\n{text}" for title, _lang, text in self.sections()]
        blocks += [_scrub(n) for n in self.notes]
        return "\n\n".join(blocks)

    def _repr_markdown_(self) -> str:
        blocks = []
        for title, lang, text in self.sections():
            fence = _fence(text)
            blocks.append(f"**{title}**\n\n{fence}{lang}\n{text}\n{fence}")
        blocks += [_scrub(n) for n in self.notes]
        return "\n\n".join(blocks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "create": self.create.as_dict(),
            "status": self.status.as_dict() if self.status else None,
            "response": self.response,
            "curl": self.curl,
            "httpx": self.httpx,
            "status_curl": self.status_curl,
            "status_httpx": self.status_httpx,
        }


def create_call(payload: Mapping[str, Any], base_url: str | None = None) -> HttpCall:
    """POST /v1/videos/generations with this JSON body."""
    key_env = config.key_variable()
    return HttpCall(
        "POST",
        _base(base_url) + c.CREATE_PATH,
        {"Authorization": _auth_header(key_env), "Content-Type": "application/json"},
        dict(payload),
        key_env,
    )


def status_call(task_id: str, base_url: str | None = None) -> HttpCall:
    """GET /v1/tasks/{id}."""
    path = c.TASK_PATH.format(task_id=urllib.parse.quote(task_id, safe=""))
    key_env = config.key_variable()
    return HttpCall(
        "GET", _base(base_url) + path, {"Authorization": _auth_header(key_env)}, key_env=key_env
    )


def snippets(
    source: TaskRecord | PreparedRequest | VideoRequest | Mapping[str, Any],
    *,
    base_url: str | None = None,
    task: Task | None = None,
) -> Snippets:
    """Snippets for a history record (its stored payload and last answer), a prepared request,
    a request whose pictures are URLs, or a create body (a dict). With `task` (what the client
    returned for it), the status call and the task's last answer are included too."""
    made = _snippets(source, base_url)
    if task is None:
        return made
    return replace(made, status=status_call(task.id, base_url), response=dict(task.raw) or None)


def _snippets(
    source: TaskRecord | PreparedRequest | VideoRequest | Mapping[str, Any], base_url: str | None
) -> Snippets:
    if isinstance(source, TaskRecord):
        notes: tuple[str, ...] = ()
        if source.status == "unknown":
            notes = (
                "This create's answer was lost: the task may exist. Do not simply send it "
                "again, or you may pay twice.",
            )
        return Snippets(
            create=create_call(source.payload, base_url),
            status=status_call(source.task_id, base_url) if source.task_id else None,
            response=source.raw,
            notes=notes,
        )
    if isinstance(source, PreparedRequest):
        return Snippets(create=create_call(source.payload, base_url))
    if isinstance(source, VideoRequest):
        local = [
            name
            for name in ("image", "image_tail")
            if getattr(source, name) is not None and not is_url(getattr(source, name))
        ]
        if local:
            raise InputError(
                f"{' and '.join(local)} is a local picture: its URL exists only after the "
                "upload. Pass `await client.prepare(request)` (or a history record) instead",
                local[0],
            )
        assert isinstance(source.image, str)
        tail = source.image_tail if isinstance(source.image_tail, str) else None
        return Snippets(create=create_call(source.payload(source.image, tail), base_url))
    if isinstance(source, Mapping):
        return Snippets(create=create_call(source, base_url))
    raise TypeError(
        f"snippets() takes a TaskRecord, PreparedRequest, VideoRequest or dict, not "
        f"{type(source).__name__}"
    )


def _base(base_url: str | None) -> str:
    # The URL requests go to without arguments: on a class gateway named by the environment,
    # the gateway's.
    if base_url is None and config.key_variable() == config.HUB_TOKEN_ENV:
        base_url = config.env(config.GATEWAY_URL_ENV)
    return config.resolve_base_url(base_url)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _py(value: Any, level: int = 0) -> str:
    """A Python literal laid out like the JSON it becomes. JSON string literals are valid Python
    string literals, so quotes, backslashes and unicode come out right."""
    pad, inner = "    " * level, "    " * (level + 1)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = [f"{inner}{_py(str(k))}: {_py(v, level + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [f"{inner}{_py(v, level + 1)}," for v in value]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    if isinstance(value, str):
        # Line and paragraph separators are legal in a literal but look like line breaks.
        text = json.dumps(value, ensure_ascii=False)
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return repr(value)  # bool, None, numbers: Python's spelling


def _scrub(text: str) -> str:
    """Second guard: a key value that reached a payload (say, pasted into a prompt) is hidden."""
    return scrub(text, KEY_SHELL)


def _fence(text: str) -> str:
    """A Markdown fence longer than any run of backticks inside the text."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)
