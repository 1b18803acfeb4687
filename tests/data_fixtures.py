"""Offline fixtures for the paper-profile data pipeline: Cao/KILT records, a local HTTP server that
can cut downloads short, and tiny random Marian translators with a tiny word-level tokenizer."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WORDS = ("the capital of france is paris who founded which city river born in country a an "
         "was by of is de die der ist hauptstadt von frankreich wer stadt fluss geboren land").split()


def fever_record(i: int, rephrases: bool = True) -> dict:
    rec = {"id": f"f{i}", "input": f"the capital of country {i} is city {i}",
           "output": [{"answer": "SUPPORTS" if i % 2 else "REFUTES", "provenance": [{"wikipedia_id": str(i)}]}]}
    if rephrases:
        rec["rephrases"] = [f"city {i} is the capital of country {i}"]
    return rec


def zsre_record(i: int, rephrases: bool = True) -> dict:
    rec = {"id": f"z{i}", "input": f"which city was person {i} born in",
           "output": [{"answer": f"city {i}", "provenance": [{"wikipedia_id": str(i)}]}],
           "meta": {"template_questions": [f"where was person {i} born"]}}
    if rephrases:
        rec["rephrases"] = [f"where was person {i} born"]
    return rec


def write_jsonl(path: Path, rows: list[dict]) -> bytes:
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


@dataclass
class ServerState:
    files: dict[str, bytes] = field(default_factory=dict)
    cut_remaining: dict[str, int] = field(default_factory=dict)  # path -> number of GETs to cut short
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    fail_remaining: dict[str, int] = field(default_factory=dict)  # path -> number of GETs answered 503


def _handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            range_header = self.headers.get("Range")
            state.requests.append((self.path, range_header))
            data = state.files.get(self.path)
            if state.fail_remaining.get(self.path, 0) > 0:  # a transient server error
                state.fail_remaining[self.path] -= 1
                self.send_error(503)
                return
            if data is None:
                self.send_error(404)
                return
            start = 0
            if range_header:
                start = int(range_header.split("=")[1].split("-")[0])
                if start >= len(data):
                    self.send_error(416)
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if state.cut_remaining.get(self.path, 0) > 0:
                state.cut_remaining[self.path] -= 1
                self.wfile.write(body[: len(body) // 2])  # then drop the connection mid-file
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


@contextlib.contextmanager
def http_server(state: ServerState) -> Iterator[str]:
    """Serve `state.files` on 127.0.0.1 (random port) for the duration of the block; yield the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def tiny_marian(directory: Path, seed: int) -> Path:
    """A random 1+1-layer Marian translator with a word-level tokenizer, saved like a hub checkpoint."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for w in list(WORDS) + [str(i) for i in range(10)]:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    config = MarianConfig(vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                          decoder_ffn_dim=32, max_position_embeddings=64, pad_token_id=0, eos_token_id=1,
                          decoder_start_token_id=0, forced_eos_token_id=1)
    torch.manual_seed(seed)
    model = MarianMTModel(config)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory
