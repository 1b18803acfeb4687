"""`editlab` command line: `editlab edit` (edit your own model, see editlab.cli_edit) and
`editlab patch inspect|apply|revert|predict` (patch files, see editlab.patchfile)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from editlab.errors import EditlabError


def _inspect(args: argparse.Namespace) -> None:
    from editlab.patchfile import RANK_ONE_FORMAT, describe

    info = describe(args.patch)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return
    base = info["base_model"]
    if info["format"] == RANK_ONE_FORMAT:
        print(f"patch        {args.patch} ({info['format']}, editlab {info['editlab_version']})")
        print(f"base model   {base['path']} ({base['model_type']}, {base['architectures']})")
        print(f"base sha256  {base['weights_sha256']} ({base['weights_bytes']} bytes)")
        if "task" in info:
            print(f"edits        {info.get('method', '?')} on task {info['task']}, "
                  f"{info.get('protocol', '?')} protocol")
        print(f"size         {info['patch_bytes']} bytes tensors + {info['metadata_bytes']} bytes metadata "
              f"({info['patch_parameters']} parameters, "
              f"{100 * info['patch_vs_base_weights']:.3f}% of the base weights file)")
        for edit in info["edits"]:
            print(f"  edit {edit['edit']:>3}  {edit['module']}  rank one {edit['shape'][0]}x{edit['shape'][1]}"
                  f"  request {edit['request']}")
        return
    print(f"patch        {args.patch} ({info['format']}, editlab {info['editlab_version']})")
    print(f"task         {info['task']}")
    print(f"base model   {base['path']} ({base['model_type']}, {base['architectures']})")
    print(f"base sha256  {base['weights_sha256']} ({base['weights_bytes']} bytes)")
    print(f"layer        {info['module']['fc_in']} -> {info['module']['fc_out']}")
    print(f"neurons      {info['n_neurons']} (d_in {info['d_in']}, d_out {info['d_out']}, {info['dtype']}) "
          f"from {info['n_edits']} edits")
    print(f"size         {info['patch_bytes']} bytes tensors + {info['metadata_bytes']} bytes metadata "
          f"({info['patch_parameters']} parameters, "
          f"{100 * info['patch_vs_base_weights']:.2f}% of the base weights file)")
    for edit in info["edits"]:
        print(f"  edit {edit['edit']:>5}  stream index {edit['index']:>6}  id {edit['id']}")


def _quiet_transformers() -> None:
    """transformers' own loading / writing bars would bury the one-line messages."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def _apply(args: argparse.Namespace) -> None:
    from editlab.patchfile import apply_patch

    _quiet_transformers()
    out = apply_patch(args.base_dir, args.patch, args.out, force=args.force)
    print(f"wrote edited checkpoint {out} (AutoModelFor....from_pretrained loads the edited model; "
          "`editlab patch revert` gives the base back)")


def _revert(args: argparse.Namespace) -> None:
    from editlab.patchfile import revert_patched_dir

    digest = revert_patched_dir(args.patched_dir, args.out, force=args.force)
    print(f"restored base model {args.out} (model.safetensors sha256 {digest}, as recorded in the patch)")


def _predict(args: argparse.Namespace) -> None:
    from editlab.errors import DataFormatError
    from editlab.io import read_jsonl
    from editlab.patchfile import write_predictions

    _quiet_transformers()
    rows = []
    for line, row in read_jsonl(args.inputs):
        if not isinstance(row.get("id"), str) or not isinstance(row.get("input"), str):
            raise EditlabError(f"{args.inputs}:{line}: each row needs string fields 'id' and 'input'")
        rows.append(row)
    if not rows:   # as every record reader refuses one (docs/bad_inputs.md), not 0 predictions and exit 0
        raise DataFormatError(args.inputs, 'no records (the inputs file is empty; expected one {"id", "input"} '
                                           "object per line)")
    write_predictions(args.model_dir, rows, args.out)
    print(f"wrote {len(rows)} predictions to {args.out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="editlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    patch = commands.add_parser("patch", help="Transformer-Patcher patch files").add_subparsers(
        dest="action", required=True)
    p = patch.add_parser("inspect", help="print a patch file's metadata and sizes")
    p.add_argument("patch", help="patches.safetensors (or its patches.json)")
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")
    p.set_defaults(func=_inspect)
    p = patch.add_parser("apply", help="write the edited model as a plain checkpoint (base files kept for revert)")
    p.add_argument("base_dir")
    p.add_argument("patch")
    p.add_argument("--out", required=True, help="new (or empty) directory to write")
    p.add_argument("--force", action="store_true", help="replace --out even if it is not empty (its files are deleted)")
    p.set_defaults(func=_apply)
    p = patch.add_parser("revert", help="write the base model back from a patched directory (sha256 checked)")
    p.add_argument("patched_dir")
    p.add_argument("--out", required=True, help="new (or empty) directory to write")
    p.add_argument("--force", action="store_true", help="replace --out even if it is not empty (its files are deleted)")
    p.set_defaults(func=_revert)
    p = patch.add_parser("predict", help="predictions of a patched directory on a JSONL of {id, input}")
    p.add_argument("model_dir")
    p.add_argument("inputs")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_predict)
    from editlab.cli_edit import add_parser as add_edit_parser

    add_edit_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
        sys.stdout.flush()   # inside the try: a reader gone (`| head`) shows here, not at interpreter exit
    except BrokenPipeError:
        # The reader closed the pipe, as `editlab patch inspect ... | head` does: stop quietly, as Unix tools do
        # on SIGPIPE (exit 128 + 13), with stdout pointed at devnull so the exit-time flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except EditlabError as exc:
        print(f"editlab: error: {exc}", file=sys.stderr)
        return 2 if args.command == "edit" else 1   # edit: bad input is a usage error (exit code 2)
    except OSError as exc:   # a file error no reader or writer anticipated: still one line naming the file
        print(f"editlab: error: {exc.filename or '?'}: {exc.strerror or exc}", file=sys.stderr)
        return 2 if args.command == "edit" else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
