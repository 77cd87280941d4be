"""The CLI's one error boundary (issue 14): library failures of the file system, SQLite,
safetensors, JSON, zip and decoding become a named error with exit 2; --debug shows the traceback."""

import errno
import json
import sqlite3
import zipfile

import pytest

from biolens.cli import main
from biolens.cli._common import user_error
from biolens.core.errors import InputError


@pytest.mark.parametrize(("exc", "words"), [
    (OSError(errno.ENOSPC, "No space left on device", "/data/out.npz"), "/data/out.npz: no space left on the device"),
    (OSError(errno.EROFS, "Read-only file system", "/ro/x"), "/ro/x: is on a read-only file system"),
    (sqlite3.OperationalError("database or disk is full"), "the embedding store failed (OperationalError"),
    (json.JSONDecodeError("Expecting value", "{", 1), "invalid JSON at line 1, column 2"),
    (zipfile.BadZipFile("File is not a zip file"), "a truncated or corrupt archive (BadZipFile"),
    (UnicodeDecodeError("utf-8", b"ab\xff", 2, 3, "invalid start byte"), "byte 0xff at offset 2"),
])
def test_library_failures_become_named_user_errors(exc, words):
    err = user_error(exc)
    assert isinstance(err, InputError) and words in str(err)
    assert user_error(KeyError("bug")) is None  # a bug keeps its traceback


def test_exit_2_without_traceback_and_debug_shows_it(tmp_path, capsys, monkeypatch):
    args = ["embed", str(tmp_path / "missing.fasta"), "-e", "onehot", "-o", str(tmp_path / "e.npz"), "--no-cache"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing.fasta" in err and "Traceback" not in err
    with pytest.raises(InputError, match=r"missing\.fasta"):
        main([*args, "--debug"])
    monkeypatch.setenv("BIOLENS_DEBUG", "1")
    with pytest.raises(InputError):
        main(args)
