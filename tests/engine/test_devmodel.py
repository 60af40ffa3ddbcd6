"""The tiny dev model: saved whole or not at all, and never rebuilt over a model."""

import pytest

from engine.devmodel import build_tokenizer, ensure_tiny_model


def test_ensure_tiny_model_saves_once_and_leaves_no_temp_folder(tmp_path) -> None:
    # given an empty data folder
    target = tmp_path / "models" / "tiny"
    # when the model is ensured twice
    first = ensure_tiny_model(target)
    stamp = (target / "model_index.json").stat().st_mtime_ns
    second = ensure_tiny_model(target)
    # then it was saved once, whole, and no temporary folder is left beside it
    assert first == second == target
    assert (target / "model_index.json").stat().st_mtime_ns == stamp
    assert {p.name for p in (target / "unet").iterdir()} >= {"config.json"}
    assert [p.name for p in target.parent.iterdir()] == ["tiny"]


def test_a_folder_with_files_but_no_model_is_not_overwritten(tmp_path) -> None:
    # given a folder holding something else
    (tmp_path / "notes.txt").write_text("mine")
    # when the tiny model is ensured there
    # then it refuses rather than mixing files
    with pytest.raises(FileExistsError, match=r"no model_index\.json"):
        ensure_tiny_model(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_tokenizer_knows_whole_words_and_falls_back_to_bytes() -> None:
    # given the in-code tokenizer
    tokenizer = build_tokenizer()
    # when a known and an unknown word are encoded
    known = tokenizer("photo").input_ids
    unknown = tokenizer("zyx").input_ids
    # then the known word is one token and the unknown one several, between
    # the start and end tokens
    assert len(known) == 3
    assert len(unknown) > 3
    assert known[0] == len(tokenizer) - 2
    assert known[-1] == len(tokenizer) - 1
