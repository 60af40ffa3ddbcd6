"""A small typed client for the Darkroom API: submit, watch live, download."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.sync.client import connect

GENERATE = """mutation($input: GenerationCreateInput!) {
  generationCreate(input: $input) {
    job { id status cost seed queuePosition }
    userErrors { field code message }
  }
}"""
JOB = """query($id: ID!) {
  job(id: $id) { id status cost refunded error { code message }
                 outputs { index imageUrl width height seed } }
}"""
UPDATES = """subscription($id: ID!) {
  jobUpdates(jobId: $id) {
    type status step totalSteps percent etaSeconds queuePosition
    output { index imageUrl seed } error { code message } refunded
  }
}"""


class DarkroomError(Exception):
    """The API refused a request; `errors` holds what it said."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(
            "; ".join(f"{e.get('code', '')} {e.get('message', '')}" for e in errors)
        )
        self.errors = errors


@dataclass
class Client:
    """Talks to one Darkroom server with one API token."""

    url: str  # the GraphQL endpoint, e.g. http://127.0.0.1:8000/graphql
    token: str
    source: str = "CLI"  # recorded on jobs; scripts of your own may say API

    def execute(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send one query or mutation and return its data; raise on errors."""
        response = httpx.post(
            self.url,
            json={"query": query, "variables": variables or {}},
            headers=self._headers(),
            timeout=90,
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise DarkroomError(
                [{**e, **e.get("extensions", {})} for e in body["errors"]]
            )
        data: dict[str, Any] = body["data"]
        return data

    def generate(self, **fields: Any) -> dict[str, Any]:
        """Queue a generation (GenerationCreateInput fields) and return the job."""
        payload = self.execute(GENERATE, {"input": fields})["generationCreate"]
        if payload["userErrors"]:
            raise DarkroomError(payload["userErrors"])
        job: dict[str, Any] = payload["job"]
        return job

    def job(self, job_id: str) -> dict[str, Any]:
        """A job with its outputs."""
        job: dict[str, Any] = self.execute(JOB, {"id": job_id})["job"]
        return job

    def watch(self, job_id: str) -> Iterator[dict[str, Any]]:
        """Yield the job's live updates until it ends (graphql-transport-ws)."""
        ws_url = "ws" + self.url.removeprefix("http")
        with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]  # a known subprotocol
            ws.send(json.dumps({"type": "connection_init", "payload": self._headers()}))
            if json.loads(ws.recv())["type"] != "connection_ack":
                raise DarkroomError([{"code": "UNAUTHENTICATED", "message": "refused"}])
            subscribe = {"query": UPDATES, "variables": {"id": job_id}}
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
            for raw in ws:
                message = json.loads(raw)
                if message["type"] == "next":
                    if message["payload"].get("errors"):
                        raise DarkroomError(message["payload"]["errors"])
                    yield message["payload"]["data"]["jobUpdates"]
                elif message["type"] == "error":
                    raise DarkroomError(message["payload"])
                elif message["type"] == "complete":
                    return

    def download(self, url: str) -> bytes:
        """Fetch an image by the URL the API gave."""
        response = httpx.get(url, timeout=60)
        response.raise_for_status()
        return response.content

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "X-Darkroom-Source": self.source,
        }
